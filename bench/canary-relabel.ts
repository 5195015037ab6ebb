// Long-lived canary relabel benchmark, against the in-process API server through the real client.
//   node --import tsx bench/canary-relabel.ts [--rollouts 200] [--pods-per-rollout 5] [--unattached 10000] [--concurrency 16] [--events]
//
// 1. N canary Rollouts × M attached pods; every stable Service's selector hash changes at once;
//    prints the delay from each Service change to each of its pods' label patch being answered
//    (p50/p99/max) and the peak RSS.
// 2. A namespace with many unattached pods: idle RSS and heap growth caused by the controller,
//    and how many pods it cached (the pod watch selects on the attach label server-side).
// The API server runs in this process too, so RSS figures include it; the growth from starting
// the controller (phase 2 runs in a fresh process) is the controller's own share.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../src/kube/apiserver/index.js';
import { startCanaryController, type CanaryController } from '../src/canary/index.js';
import { createMetrics } from '../src/observability/metrics.js';
import { KubeClient } from '../src/kube/client.js';
import {
  NS,
  attachedPod,
  canaryRollout,
  eventually,
  managedService,
  pod,
  podHash,
  setServiceHash,
} from '../test/integration/canary/fixtures.js';

const { values: args } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '200' },
    'pods-per-rollout': { type: 'string', default: '5' },
    unattached: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    phase: { type: 'string', default: 'all' },
    events: { type: 'boolean', default: false },
  },
});
const ROLLOUTS = Number(args.rollouts);
const PODS = Number(args['pods-per-rollout']);
const UNATTACHED = Number(args.unattached);
const CONCURRENCY = Number(args.concurrency);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const settle = async () => {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function startController(api: ApiServer): Promise<CanaryController> {
  const controller = await startCanaryController({
    kube: new KubeClient({ kubeConfig: api.kubeConfig() }),
    metrics: createMetrics({ defaultMetrics: false }),
    concurrency: CONCURRENCY,
    resyncMs: 10 * 60_000,
    recordEvents: args.events,
  });
  await eventually('caches to sync', () => controller.ready(), 120_000);
  return controller;
}

async function relabelDelays(): Promise<void> {
  const api = await startApiServer();
  const rolloutOf = (podName: string) => podName.slice(0, podName.lastIndexOf('-'));
  for (let r = 0; r < ROLLOUTS; r += 1) {
    const name = `app-${r}`;
    api.create(canaryRollout(name, 'h0'));
    api.create(managedService(`${name}-stable`, name, 'h0'));
    for (let p = 0; p < PODS; p += 1) api.create(attachedPod(`${name}-${p}`, name));
  }
  const controller = await startController(api);
  const allPods = [...Array(ROLLOUTS).keys()].flatMap((r) => [...Array(PODS).keys()].map((p) => `app-${r}-${p}`));
  await eventually('initial relabel', () => allPods.every((p) => podHash(api, p) === 'h0'), 120_000);

  // Timestamp each pod patch when the API server answers it.
  const changedAt = new Map<string, number>();
  const delays: number[] = [];
  let allPatched!: () => void;
  const done = new Promise<void>((resolve) => (allPatched = resolve));
  const log = api.requestLog;
  const push = log.push.bind(log);
  log.push = (...entries) => {
    const now = performance.now();
    for (const e of entries) {
      const match = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)$/.exec(e.path);
      if (e.method === 'PATCH' && e.status === 200 && match) {
        const since = changedAt.get(rolloutOf(match[1]));
        if (since !== undefined) delays.push(now - since);
        if (delays.length === allPods.length) allPatched();
      }
    }
    return push(...entries);
  };

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < ROLLOUTS; r += 1) {
    changedAt.set(`app-${r}`, performance.now());
    setServiceHash(api, `app-${r}-stable`, 'h1');
  }
  // Waiting on the API server's answers, not polling the store, keeps the bench off the CPU.
  await done;
  const total = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const stale = allPods.filter((p) => podHash(api, p) !== 'h1');
  if (stale.length > 0) throw new Error(`pods not relabeled: ${stale.slice(0, 5).join(', ')}`);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const sorted = [...delays].sort((a, b) => a - b);
  console.log(
    `relabel: ${ROLLOUTS} rollouts x ${PODS} pods, all stable Service selectors changed at once (concurrency ${CONCURRENCY}, events ${args.events ? 'on' : 'off'})`,
  );
  console.log(
    `  patches: ${delays.length}, all done in ${total.toFixed(0)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, API server and client share one thread)`,
  );
  console.log(
    `  Service change -> pod patch answered: p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
  );
  console.log(`  peak RSS (API server + controller): ${mb(peakRss)}`);
  await controller.stop();
  await api.close();
}

async function idleWithUnattachedPods(): Promise<void> {
  const api = await startApiServer();
  for (let r = 0; r < 10; r += 1) {
    api.create(canaryRollout(`app-${r}`, 'h0'));
    api.create(managedService(`app-${r}-stable`, `app-${r}`, 'h0'));
    api.create(attachedPod(`app-${r}-canary`, `app-${r}`));
  }
  for (let i = 0; i < UNATTACHED; i += 1) {
    api.create(pod(`web-${i}`, { app: `app-${i % 10}`, 'rollouts-pod-template-hash': 'h0', 'pod-template-hash': 'abcdef' }, NS));
  }
  await settle();
  const before = process.memoryUsage();
  const controller = await startController(api);
  await eventually('the attached pods to be relabeled', () => podHash(api, 'app-9-canary') === 'h0', 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await settle();
  const after = process.memoryUsage();
  const stats = controller.stats();
  console.log(`idle: ${UNATTACHED} unattached + 10 attached pods in ${NS}`);
  console.log(`  pods cached by the controller: ${stats.pods} (rollouts ${stats.rollouts}, services ${stats.services})`);
  console.log(
    `  RSS: ${mb(before.rss)} before the controller (API server holding ${UNATTACHED + 10} pods), ${mb(after.rss)} with it synced and idle (${after.rss >= before.rss ? '+' : '-'}${mb(Math.abs(after.rss - before.rss))})`,
  );
  console.log(`  heap used: ${after.heapUsed >= before.heapUsed ? '+' : '-'}${mb(Math.abs(after.heapUsed - before.heapUsed))} from starting the controller`);
  await controller.stop();
  await api.close();
}

if (args.phase === 'idle') {
  await idleWithUnattachedPods();
} else {
  await relabelDelays();
  // A fresh process, so the first phase's heap does not hide the idle footprint.
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--phase', 'idle', '--unattached', String(UNATTACHED)],
    { stdio: 'inherit' },
  );
  process.exitCode = child.status ?? 1;
}
