// Plugin call latency as the controller feels it, under realhost (the controller's own
// client; the host measures each call): our bundle in in-process mode against the in-process
// API server vs the Go stub plugin (which decodes the same gob and does no work), in the
// same run. The Rollout is test/fixtures/realhost/full-rollout.json (a fully populated
// production Rollout, 20 KB of JSON) pointed at the seed's routes.
// Rows: Control.Ping; SetWeight with the weight unchanged (the common reconcile: nothing to
// write) and changing (read + write), each at the default client budget and unthrottled;
// SetWeight with a 1 MB Rollout (unchanged weight, unthrottled), and the same without any
// Kubernetes work (the client cannot start, so SetWeight answers an RpcError right after
// decoding): transport + decode + conversion, exactly what the Go stub does.
//   node --import tsx bench/plugin-roundtrip.ts [--calls 300] [--host gphost]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rollout } from '../src/routing/rollout.js';
import { arg, bundle, cluster, header, ours, pct, play, ROOT, row, STUB } from './plugin-support.js';
import { PLUGIN_NODE_FLAGS } from '../scripts/bundle.mjs';

const calls = arg('calls', 300);
const c = await cluster();
const full = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/realhost/full-rollout.json'), 'utf8')) as Rollout;

// 1 MiB of JSON: 30 more containers like the first (structure: half a MiB of fields), and
// a last-applied-configuration annotation filling the rest (one long string).
function big(): Rollout {
  const r = structuredClone(full) as Rollout & { spec: { template: { spec: { containers: { name: string }[] } } } };
  const containers = r.spec.template.spec.containers;
  for (let i = 0; i < 30; i++) containers.push({ ...structuredClone(containers[0]!), name: `sidecar-${i}` });
  const size = JSON.stringify(r).length;
  r.metadata.annotations = { ...r.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(Math.max(0, (1 << 20) - size - 64)) };
  return r;
}
const large = big();

// InitPlugin and a first SetWeight load the client before the measured calls.
function scenario(rollout: Rollout, n: number, weight: (i: number) => number, method = 'SetWeight') {
  return {
    rollout,
    calls: [
      { method: 'InitPlugin' },
      { method: 'SetWeight', desiredWeight: weight(0) },
      ...Array.from({ length: n }, (_, i) => (method === 'SetWeight' ? { method, desiredWeight: weight(i) } : { method })),
    ],
  };
}

/** Per-call durations, the first tenth (connection warm-up, JIT) dropped. */
async function durations(name: string, s: ReturnType<typeof scenario>, argv: string[], rpcErrorsOk = false): Promise<number[]> {
  const lines = await play(name, s, argv, rpcErrorsOk);
  const own = lines.filter((l) => l.i >= 2).map((l) => l.durationMs);
  return own.slice(Math.floor(own.length / 10));
}

const plugin = await bundle();
const unthrottled = ours(plugin, c, ['--kube-qps', '100000', '--kube-burst', '100000']);
const byDefault = ours(plugin, c);
const stubArgv = [STUB];
const throttledCalls = Math.min(calls, 100);

const stubPing = await durations('stub-ping', scenario(full, calls, () => 0, 'Ping'), stubArgv);
const oursPing = await durations('ours-ping', scenario(full, calls, () => 0, 'Ping'), unthrottled);
const stubSet = await durations('stub', scenario(full, calls, () => 10), stubArgv);
const same = await durations('same', scenario(full, calls, () => 10), unthrottled);
const changing = await durations('changing', scenario(full, calls, (i) => (i % 2 ? 10 : 20)), unthrottled);
const sameDefault = await durations('same-default', scenario(full, throttledCalls, () => 10), byDefault);
const changingDefault = await durations('changing-default', scenario(full, throttledCalls, (i) => (i % 2 ? 10 : 20)), byDefault);
const stubLarge = await durations('stub-1mb', scenario(large, Math.min(calls, 100), () => 10), stubArgv);
const oursLarge = await durations('ours-1mb', scenario(large, Math.min(calls, 100), () => 10), unthrottled);
const noClient = [process.execPath, ...PLUGIN_NODE_FLAGS, plugin, '--kubeconfig', join(ROOT, 'bench', 'no-such-kubeconfig'), '--log-level', 'error'];
const decodeOnly = await durations('ours-1mb-decode', scenario(large, Math.min(calls, 100), () => 10), noClient, true);

header(`Call latency, p50 (p99 in brackets), ${calls} calls per row (${throttledCalls} at the default budget, 100 with 1 MB)`);
const p = (xs: number[]) => pct(xs, 50);
const both = (what: string, a: number[], b: number[]) => {
  row(`${what}, p50`, p(a), p(b));
  row(`${what}, p99`, pct(a, 99), pct(b, 99));
};
both('Control.Ping', oursPing, stubPing);
both('SetWeight unchanged, unthrottled', same, stubSet);
both('SetWeight changing, unthrottled', changing, stubSet);
both('SetWeight unchanged, default budget', sameDefault, stubSet);
both('SetWeight changing, default budget', changingDefault, stubSet);
const mb = `${(JSON.stringify(large).length / (1 << 20)).toFixed(2)} MB`;
both(`SetWeight, ${mb} Rollout, unchanged`, oursLarge, stubLarge);
both(`SetWeight, ${mb} Rollout, decode only (no Kubernetes work)`, decodeOnly, stubLarge);
await c.api.close();
