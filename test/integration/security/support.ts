import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../../src/log.js';
import { KubeClient } from '../../../src/kube/client.js';
import { localRouters } from '../../../src/kube/local-router.js';
import { createLocalStep } from '../../../src/kube/local-step.js';
import { createCompanionServer, listen } from '../../../src/grpc/server.js';
import { callerGuard, type CallerLimits, type Refusal } from '../../../src/grpc/auth.js';
import { toTarget, trafficRouterClientConstructor } from '../../../src/grpc/contract.js';
import { TokenReviewer } from '../../../src/security/token-review.js';
import { guardedRouters } from '../../../src/security/rollout-guard.js';
import { hardenedServerOptions } from '../../../src/security/transport.js';
import { serviceAccountSubject, type ApiServer, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { DEFAULT_PLUGIN_NAME } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { seedPinnedRoutes } from '../../support/seed.js';

// The companion as `serve` wires it in a cluster (TokenReview, allowed callers, caller limits,
// stored-Rollout guard, cross-namespace consent), on a loopback port, against the in-process API
// server; and a raw gRPC client so tests see the status codes callers get.

export const CONTROLLER = { namespace: 'argo-rollouts', name: 'argo-rollouts' };
export const CONTROLLER_USER = 'system:serviceaccount:argo-rollouts:argo-rollouts';
export const AUDIENCE = 'rollouts-companion';

export interface SecureCompanion {
  address: string;
  refusals: Refusal[];
  writes: string[];
  stop(): Promise<void>;
}

export async function startSecureCompanion(
  api: ApiServer,
  options: { allowed?: string[]; limits?: Partial<CallerLimits>; maxMessageBytes?: number; authenticate?: boolean } = {},
): Promise<SecureCompanion> {
  const kube = new KubeClient({ kubeConfig: api.kubeConfig(), qps: 1000, burst: 1000 });
  const writes: string[] = [];
  const refusals: Refusal[] = [];
  const routerFor = guardedRouters(localRouters({ client: kube, logger: silentLogger, events: { onWrite: (k) => writes.push(k) } }), {
    kube,
    pluginName: DEFAULT_PLUGIN_NAME,
  });
  const guard = callerGuard({
    ...(options.authenticate === false ? {} : { reviewer: new TokenReviewer(kube, { audience: AUDIENCE }) }),
    allowed: options.allowed ?? [CONTROLLER_USER],
    ...(options.limits ? { limits: options.limits } : {}),
    onRefused: (r) => refusals.push(r),
  });
  const { server } = createCompanionServer({
    routerFor,
    step: createLocalStep({ client: kube, logger: silentLogger }),
    logger: silentLogger,
    grpcOptions: hardenedServerOptions({ interceptors: [guard], ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}) }),
  });
  const port = await listen(server, '127.0.0.1:0');
  return {
    address: `127.0.0.1:${port}`,
    refusals,
    writes,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A token for the controller's ServiceAccount with the companion's audience, as deploy/plugin projects it. */
export function controllerToken(api: ApiServer, extra: { audiences?: string[]; expiresAt?: number } = {}): string {
  return api.tokens.issue(serviceAccountSubject(CONTROLLER.namespace, CONTROLLER.name, { audiences: [AUDIENCE], ...extra }));
}

export function tokenFile(token: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rc-token-')), 'token');
  writeFileSync(file, token, { mode: 0o600 });
  return file;
}

export interface Reply {
  code: grpc.status;
  details: string;
  reply?: { error?: string; verified?: number };
}

export type RawClient = grpc.Client & Record<string, Function>;

export function rawClient(address: string): RawClient {
  const Client = trafficRouterClientConstructor();
  return new Client(address, grpc.credentials.createInsecure()) as unknown as RawClient;
}

/** One unary call; resolves with the status either way. */
export function rawCall(client: RawClient, method: string, request: object, token?: string): Promise<Reply> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client[method]!.call(client, request, md, { deadline: Date.now() + 20_000 }, (err: grpc.ServiceError | null, reply: Reply['reply']) =>
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '', reply }),
    );
  });
}

export const setWeight = (rollout: Rollout, desiredWeight: number, additionalDestinations: { serviceName: string; weight: number }[] = []) => ({
  target: toTarget(rollout, ''),
  desiredWeight,
  additionalDestinations,
});

/** Seeds examples/pinned-routes with its Rollout stored too; returns the Rollout as the API server holds it (uid included). */
export async function seedWithStoredRollout(api: ApiServer): Promise<Rollout> {
  const rollout = await seedPinnedRoutes(api);
  return api.create(rollout as unknown as KubeObject) as unknown as Rollout;
}
