import { ApiException, CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';

import { startApiServer, type ApiServer, type ApiServerOptions, type KubeObject, type KubeStatus } from '../../../src/kube/apiserver/index.js';

export const GATEWAY = 'gateway.networking.k8s.io';
export const NS = 'default';

export interface Harness {
  server: ApiServer;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

export async function startHarness(opts: ApiServerOptions = {}): Promise<Harness> {
  const server = await startApiServer(opts);
  const kc = server.kubeConfig();
  return { server, kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export function httpRoute(name: string, labels?: Record<string, string>, weight = 100): KubeObject {
  return {
    apiVersion: `${GATEWAY}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace: NS, ...(labels ? { labels } : {}) },
    spec: {
      parentRefs: [{ name: 'gateway' }],
      rules: [{ backendRefs: [{ name: 'stable', port: 80, weight }] }],
    },
  };
}

export function routeParams(name: string) {
  return { group: GATEWAY, version: 'v1', namespace: NS, plural: 'httproutes', name };
}

/** The Status a client-node call failed with. */
export async function apiError(call: Promise<unknown>): Promise<KubeStatus> {
  try {
    await call;
  } catch (err) {
    expect(err).to.be.instanceOf(ApiException);
    const e = err as ApiException<unknown>;
    const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as KubeStatus;
    expect(status.code).to.equal(e.code);
    return status;
  }
  expect.fail('expected the call to fail');
}

/** Polls until `check` stops throwing (assertions inside it), or fails with its last error. */
export async function eventually(check: () => unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export interface WatchEvent {
  type: string;
  object: KubeObject & { code?: number; reason?: string };
}

/** A client-node Watch collecting its events, and how it ended. */
export interface Recorder {
  events: WatchEvent[];
  done: boolean;
  doneError: unknown;
  abort(): void;
}

export async function record(kc: KubeConfig, path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<Recorder> {
  const rec: Recorder = { events: [], done: false, doneError: undefined, abort: () => {} };
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => rec.events.push({ type, object }),
    (err) => {
      rec.done = true;
      rec.doneError = err;
    },
  );
  rec.abort = () => controller.abort();
  return rec;
}

export function summary(events: WatchEvent[]): string[] {
  return events.map((e) => (e.type === 'BOOKMARK' || e.type === 'ERROR' ? e.type : `${e.type} ${e.object.metadata.name}`));
}
