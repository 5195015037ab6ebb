// SetWeight through gRPC against the in-process API server: calls per second and p50/p99
// latency, for 1 rollout and for 100 rollouts driven in parallel. Every call changes the
// weight, so every call is a real read-modify-write of the route.
//   node --import tsx bench/setweight.ts [--seconds 5]
import { startApiServer } from '../src/kube/apiserver/index.js';
import { silentLogger } from '../src/log.js';
import { KubeClient } from '../src/kube/client.js';
import { localRouters } from '../src/kube/local-router.js';
import { createCompanionServer, listen } from '../src/grpc/server.js';
import { createRemoteRouter } from '../src/grpc/client.js';
import type { Rollout } from '../src/routing/rollout.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;

function rolloutFor(i: number): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: `app-${i}`, namespace: 'default' },
    spec: {
      strategy: {
        canary: {
          stableService: `stable-${i}`,
          canaryService: `canary-${i}`,
          trafficRouting: { plugins: { 'rollouts-companion/gatewayAPI': { httpRoute: `route-${i}` } } },
        },
      },
    },
  };
}

function routeFor(i: number) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `route-${i}`, namespace: 'default' },
    spec: {
      parentRefs: [{ name: 'eg' }],
      hostnames: [`app-${i}.example.com`],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: `stable-${i}`, kind: 'Service', port: 80 },
            { name: `canary-${i}`, kind: 'Service', port: 80 },
          ],
        },
      ],
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(parallel: number) {
  const api = await startApiServer();
  for (let i = 0; i < parallel; i++) api.create(routeFor(i));
  const kube = new KubeClient({ kubeConfig: api.kubeConfig(), qps: 1e6, burst: 1e6 });
  const { server } = createCompanionServer({ routerFor: localRouters({ client: kube, logger: silentLogger }), logger: silentLogger });
  const port = await listen(server, '127.0.0.1:0');
  const client = createRemoteRouter({ address: `127.0.0.1:${port}` });

  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: parallel }, async (_, i) => {
      const rollout = rolloutFor(i);
      for (let n = 0; Date.now() < deadline; n++) {
        const t0 = process.hrtime.bigint();
        const r = await client.setWeight(rollout, n % 2 === 0 ? 10 : 20, []);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.error) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  console.log(
    `${String(parallel).padStart(3)} rollout(s) in parallel: ${(latencies.length / seconds).toFixed(0).padStart(6)} SetWeight/s  ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  ` +
      `(${latencies.length} calls, ${errors} errors)`,
  );
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await api.close();
}

console.log(`SetWeight through gRPC → companion → in-process API server (${seconds}s each, client rate limit off)`);
await run(1);
await run(100);
