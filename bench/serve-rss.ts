// `serve` memory in its own process (bundled, shipped defaults) against a cluster (the in-process
// API server in this process):
//   node --import tsx bench/serve-rss.ts [--rollouts 200] [--pods-per-rollout 5] [--settle-ms 8000]
// Run the companion image's way: the minified bundle with the ENTRYPOINT's node flags.
// 1. idle: an empty cluster. 2. 200 Rollouts with 1 000 attached pods, all relabelled, then one
// promotion of every Rollout. Goals (#9.5): ≤ 80 MB idle, ≤ 100 MB loaded.
import { parseArgs } from 'node:util';
import { startApiServer } from '../src/kube/apiserver/index.js';
import { attachedPod, canaryRollout, eventually, managedService, podHash, setServiceHash } from '../test/integration/canary/fixtures.js';
import { bundleServe, mb, pause, shippedNodeFlags, startServe, waitReady } from './serve-process.js';

const { values: args } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '200' },
    'pods-per-rollout': { type: 'string', default: '5' },
    'settle-ms': { type: 'string', default: '8000' },
    /** Default: the companion image's ENTRYPOINT flags. */
    'node-flags': { type: 'string' },
  },
});
const ROLLOUTS = Number(args.rollouts);
const PODS = Number(args['pods-per-rollout']);
const SETTLE = Number(args['settle-ms']);
const FLAGS = args['node-flags'] === undefined ? shippedNodeFlags() : args['node-flags'].split(' ').filter(Boolean);
const IDLE_GOAL = 80 * 1024 * 1024;
const LOADED_GOAL = 100 * 1024 * 1024;

const verdict = (bytes: number, goal: number) => (bytes <= goal ? `goal ${mb(goal)} met` : `goal ${mb(goal)} missed by ${mb(bytes - goal)}`);

const bundle = await bundleServe();
console.log(`serve: minified bundle, node ${FLAGS.join(' ')} (own process; API server in the bench's process)`);

{
  const api = await startApiServer();
  const serve = await startServe(api, bundle, [], FLAGS);
  await waitReady(serve);
  await pause(SETTLE);
  const { now, peak } = serve.rss();
  console.log(`serve idle (empty cluster, bundle, own process): RSS ${mb(now)} (peak ${mb(peak)}); ${verdict(now, IDLE_GOAL)}`);
  await serve.stop();
  await api.close();
}

{
  const api = await startApiServer();
  const names: string[] = [];
  for (let r = 0; r < ROLLOUTS; r += 1) {
    const name = `app-${r}`;
    api.create(canaryRollout(name, 'h0'));
    api.create(managedService(`${name}-stable`, name, 'h0'));
    for (let p = 0; p < PODS; p += 1) {
      api.create(attachedPod(`${name}-${p}`, name));
      names.push(`${name}-${p}`);
    }
  }
  const serve = await startServe(api, bundle, [], FLAGS);
  await waitReady(serve);
  await eventually('every pod relabelled', () => names.every((n) => podHash(api, n) === 'h0'), 300_000);
  for (let r = 0; r < ROLLOUTS; r += 1) setServiceHash(api, `app-${r}-stable`, 'h1');
  await eventually('every pod promoted', () => names.every((n) => podHash(api, n) === 'h1'), 300_000);
  await pause(SETTLE);
  const { now, peak } = serve.rss();
  console.log(
    `serve with ${ROLLOUTS} Rollouts and ${names.length} attached pods, after a promotion of all: RSS ${mb(now)} (peak ${mb(peak)}); ${verdict(now, LOADED_GOAL)}`,
  );
  await serve.stop();
  await api.close();
}
