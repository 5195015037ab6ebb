import type { KubeConfig } from '@kubernetes/client-node';
import type * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/log.js';
import { KubeClient } from '../../src/kube/client.js';
import { localRouters } from '../../src/kube/local-router.js';
import { createLocalStep } from '../../src/kube/local-step.js';
import { createCompanionServer, listen } from '../../src/grpc/server.js';
import { createRemoteRouter, type RemoteRouter } from '../../src/grpc/client.js';

// A companion gRPC server on a free loopback port, talking to whatever cluster `kubeConfig`
// points at, and a client for it: the same path the `call` verb and the plugin's remote mode use.

export interface RunningCompanion {
  address: string;
  client: RemoteRouter;
  writes: string[];
  conflicts: string[];
  stop(): Promise<void>;
}

export async function startCompanion(kubeConfig: KubeConfig, options: { deadlineMs?: number } = {}): Promise<RunningCompanion> {
  const writes: string[] = [];
  const conflicts: string[] = [];
  const kube = new KubeClient({ kubeConfig, qps: 1000, burst: 1000 });
  const routerFor = localRouters({
    client: kube,
    logger: silentLogger,
    events: { onWrite: (k) => writes.push(k), onConflict: (k) => conflicts.push(k) },
  });
  const { server } = createCompanionServer({ routerFor, logger: silentLogger, step: createLocalStep({ client: kube, logger: silentLogger }) });
  const port = await listen(server, '127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const client = createRemoteRouter({ address, deadlineMs: options.deadlineMs ?? 10_000 });
  return {
    address,
    client,
    writes,
    conflicts,
    stop: async () => {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

export type { grpc };
