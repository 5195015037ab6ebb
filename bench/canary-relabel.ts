// Long-lived canary relabels as users run them: `serve` in its own process (the minified bundle,
// the companion image's node flags, shipped defaults: client budget DEFAULT_QPS/DEFAULT_BURST,
// Events on), against the in-process API server in this process.
//   node --import tsx bench/canary-relabel.ts [--rollouts 200] [--pods-per-rollout 5] [--singles 20] [--unattached 10000]
//
// 1. Single promotions, one Rollout at a time: delay from the Service switch to each of its pods'
//    label patch being answered (p50/p99/max). Goal (#9.6): p99 ≤ 100 ms.
// 2. Burst: every Rollout's stable Service switched at once. Goal: every pod relabelled within
//    (1000 / qps) + 1 s; Events aggregated per Rollout (counted here), serve's peak RSS.
// 3. Idle with many unattached pods: serve's RSS and how many pods it cached.
import { parseArgs } from 'node:util';
import { startApiServer, type ApiServer } from '../src/kube/apiserver/index.js';
import { DEFAULT_BURST, DEFAULT_QPS } from '../src/kube/client.js';
import { NS, attachedPod, canaryRollout, eventually, managedService, pod, podHash, setServiceHash } from '../test/integration/canary/fixtures.js';
import { bundleServe, mb, pause, shippedNodeFlags, startServe, waitReady } from './serve-process.js';

const { values: args } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '200' },
    'pods-per-rollout': { type: 'string', default: '5' },
    singles: { type: 'string', default: '20' },
    unattached: { type: 'string', default: '10000' },
  },
});
const ROLLOUTS = Number(args.rollouts);
const PODS = Number(args['pods-per-rollout']);
const SINGLES = Math.min(Number(args.singles), ROLLOUTS);
const UNATTACHED = Number(args.unattached);
const FLAGS = shippedNodeFlags();

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const describe = (delays: number[]) => {
  const sorted = [...delays].sort((a, b) => a - b);
  return `p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
};

/** Times each answered pod PATCH against when its Rollout's Service was switched. */
function patchTimer(api: ApiServer) {
  const switchedAt = new Map<string, number>();
  const delays: number[] = [];
  let eventWrites = 0;
  const log = api.requestLog;
  const push = log.push.bind(log);
  log.push = (...entries) => {
    const now = performance.now();
    for (const e of entries) {
      if (e.path.endsWith('/events') || /\/events\/[^/]+$/.test(e.path)) eventWrites += 1;
      const match = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)$/.exec(e.path);
      if (e.method !== 'PATCH' || e.status !== 200 || !match) continue;
      const since = switchedAt.get(match[1].slice(0, match[1].lastIndexOf('-')));
      if (since !== undefined) delays.push(now - since);
    }
    return push(...entries);
  };
  return {
    switched: (rollout: string) => switchedAt.set(rollout, performance.now()),
    take: () => delays.splice(0),
    eventWrites: () => eventWrites,
  };
}

const bundle = await bundleServe();
console.log(`serve: minified bundle, node ${FLAGS.join(' ')}, client budget qps ${DEFAULT_QPS} burst ${DEFAULT_BURST}, events on`);

{
  const api = await startApiServer();
  const names: string[] = [];
  for (let r = 0; r < ROLLOUTS; r += 1) {
    api.create(canaryRollout(`app-${r}`, 'h0'));
    api.create(managedService(`app-${r}-stable`, `app-${r}`, 'h0'));
    for (let p = 0; p < PODS; p += 1) {
      api.create(attachedPod(`app-${r}-${p}`, `app-${r}`));
      names.push(`app-${r}-${p}`);
    }
  }
  const serve = await startServe(api, bundle, [], FLAGS);
  await waitReady(serve);
  await eventually('the initial relabel', () => names.every((n) => podHash(api, n) === 'h0'), 300_000);
  await pause(2000);
  const timer = patchTimer(api);

  // 1. Single promotions.
  const singles: number[] = [];
  for (let r = 0; r < SINGLES; r += 1) {
    timer.switched(`app-${r}`);
    setServiceHash(api, `app-${r}-stable`, 'h1');
    await eventually('the promotion', () => [...Array(PODS).keys()].every((p) => podHash(api, `app-${r}-${p}`) === 'h1'), 30_000);
    await pause(50);
    singles.push(...timer.take());
  }
  console.log(`single promotion (1 Rollout x ${PODS} pods, ${SINGLES} times): Service switch -> pod patch answered ${describe(singles)}; goal p99 <= 100 ms`);

  // 2. Burst.
  await pause(1000);
  const eventsBefore = timer.eventWrites();
  const started = performance.now();
  for (let r = 0; r < ROLLOUTS; r += 1) {
    timer.switched(`app-${r}`);
    setServiceHash(api, `app-${r}-stable`, 'h2');
  }
  await eventually('every pod promoted', () => names.every((n) => podHash(api, n) === 'h2'), 300_000);
  const allDone = performance.now() - started;
  const burst = timer.take();
  await pause(3000);
  const bound = 1000 / DEFAULT_QPS + 1;
  const relabeledEvents = (api.list('v1', 'Event', NS) as unknown as { reason: string; message: string; count: number }[]).filter(
    (e) => e.reason === 'Relabeled' && e.message.includes('=h2'),
  );
  console.log(`burst (${ROLLOUTS} Rollouts x ${PODS} pods switched at once): ${burst.length} patches, all done in ${(allDone / 1000).toFixed(2)} s; ${describe(burst)}`);
  console.log(
    `  goal: every pod within (1000/qps)+1 = ${bound.toFixed(1)} s -> ${allDone / 1000 <= bound ? 'met' : `missed by ${(allDone / 1000 - bound).toFixed(2)} s`}`,
  );
  console.log(
    `  Events: ${relabeledEvents.length} Relabeled Events (counts ${[...new Set(relabeledEvents.map((e) => e.count))].join('/')}) from ${timer.eventWrites() - eventsBefore} event writes for ${burst.length} pod patches`,
  );
  console.log(`  serve RSS ${mb(serve.rss().now)}, peak ${mb(serve.rss().peak)}`);
  await serve.stop();
  await api.close();
}

// 3. Idle with many unattached pods.
{
  const api = await startApiServer();
  for (let r = 0; r < 10; r += 1) {
    api.create(canaryRollout(`app-${r}`, 'h0'));
    api.create(managedService(`app-${r}-stable`, `app-${r}`, 'h0'));
    api.create(attachedPod(`app-${r}-canary`, `app-${r}`));
  }
  for (let i = 0; i < UNATTACHED; i += 1) {
    api.create(pod(`web-${i}`, { app: `app-${i % 10}`, 'rollouts-pod-template-hash': 'h0', 'pod-template-hash': 'abcdef' }, NS));
  }
  const serve = await startServe(api, bundle, [], FLAGS);
  await waitReady(serve);
  await eventually('the attached pods to be relabeled', () => podHash(api, 'app-9-canary') === 'h0', 60_000);
  await pause(5000);
  const metrics = await (await fetch(`${serve.http}/metrics`)).text();
  const attached = metrics
    .split('\n')
    .filter((l) => l.startsWith('rollouts_companion_attached_pods{'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  console.log(`idle: ${UNATTACHED} unattached + 10 attached pods: serve caches ${attached} pods; RSS ${mb(serve.rss().now)} (peak ${mb(serve.rss().peak)})`);
  await serve.stop();
  await api.close();
}
