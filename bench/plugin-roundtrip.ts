// SetWeight round trip through the real go-plugin host with a realistic ~30 KB Rollout:
// our plugin (bundle, in-process mode against the in-process API server, client rate limit
// lifted so the numbers show the plugin and not the 20 qps default) vs the Go stub plugin
// (which does no work), plus Control.Ping for the bare transport. Durations are the host's
// own per-call measurements.
//   node --import tsx bench/plugin-roundtrip.ts [--calls 300]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePlugin } from '../scripts/bundle.mjs';
import { startApiServer } from '../src/kube/apiserver/index.js';
import { seedPinnedRoutes } from '../test/support/seed.js';

const ROOT = join(import.meta.dirname, '..');
const HOST = join(ROOT, '.build', 'gphost', 'host');
const calls = Number(process.argv[process.argv.indexOf('--calls') + 1]) || 300;
const dir = mkdtempSync(join(tmpdir(), 'plugin-bench-'));

const api = await startApiServer({ simulateGateway: true });
const seeded = await seedPinnedRoutes(api);
const kubeconfig = join(dir, 'kubeconfig');
await api.writeKubeconfig(kubeconfig);

// ~30 KB: what kubectl apply leaves behind, labels, and a status with conditions.
const lastApplied = JSON.stringify(seeded);
const rollout = {
  ...seeded,
  metadata: {
    ...seeded.metadata,
    uid: '6f1c2b9e-3d4a-4e8f-9a7b-1c2d3e4f5a6b',
    resourceVersion: '184213',
    generation: 12,
    creationTimestamp: '2025-03-02T10:15:00Z',
    labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`example.com/label-${i}`, `value-${i}`])),
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': lastApplied,
      'rollout.argoproj.io/revision': '12',
      ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`example.com/note-${i}`, 'n'.repeat(400)])),
    },
  },
  status: {
    currentPodHash: '7c9d8f6b5',
    stableRS: '5f6d7c8b9',
    currentStepIndex: 0,
    phase: 'Progressing',
    conditions: Array.from({ length: 4 }, (_, i) => ({
      type: `Condition${i}`, status: 'True', reason: 'ReplicaSetUpdated', message: 'Rollout is progressing. '.repeat(20),
      lastUpdateTime: '2025-03-02T10:20:00Z', lastTransitionTime: '2025-03-02T10:20:00Z',
    })),
  },
};
const size = JSON.stringify(rollout).length;

function scenario(weights: (i: number) => number, method = 'SetWeight') {
  return {
    rollout,
    calls: [
      { method: 'InitPlugin' },
      ...Array.from({ length: calls }, (_, i) =>
        method === 'SetWeight' ? { method, desiredWeight: weights(i), expect: { ok: true } } : { method, expect: { ok: true } },
      ),
    ],
  };
}

async function play(name: string, scenarioObj: unknown, argv: string[]): Promise<number[]> {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(scenarioObj));
  const child = spawn(HOST, ['-kind', 'trafficrouter', '-scenario', file, '-log-level', 'off', '--', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => child.on('close', r));
  if (code !== 0) throw new Error(`${name}: host exited ${code}\n${out.slice(-2000)}`);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { i: number; durationMs: number });
  // Drop the first tenth: connection warm-up and JIT.
  return lines.filter((l) => l.i >= 1).slice(Math.floor(calls / 10)).map((l) => l.durationMs);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const report = (name: string, xs: number[]) =>
  console.log(`${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(2).padStart(7)} ms   p99 ${pct(xs, 99).toFixed(2).padStart(7)} ms`);

const bundle = await bundlePlugin({ outdir: join(ROOT, '.build', 'bench-plugin'), minify: true });
const ours = [process.execPath, bundle, '--kubeconfig', kubeconfig, '--log-level', 'warn', '--kube-qps', '100000', '--kube-burst', '100000'];
const stubArgv = [join(ROOT, '.build', 'gphost', 'stubplugin')];
console.log(`SetWeight round trip under the go-plugin host, Rollout ${(size / 1024).toFixed(1)} KB JSON, ${calls} calls`);
report('Control.Ping, gphost stubplugin (Go)', await play('stub-ping', scenario(() => 0, 'Ping'), stubArgv));
report('Control.Ping, rollouts-companion', await play('ours-ping', scenario(() => 0, 'Ping'), ours));
const stub = await play('stub', scenario(() => 10), stubArgv);
report('SetWeight, gphost stubplugin (Go, no work)', stub);
const same = await play('same', scenario(() => 10), ours);
report('SetWeight, ours, same weight (read only)', same);
const alternating = await play('alt', scenario((i) => (i % 2 ? 10 : 20)), ours);
report('SetWeight, ours, alternating (read+write)', alternating);
console.log(`ratio p50 ours/stub: read only ${(pct(same, 50) / pct(stub, 50)).toFixed(1)}x, read+write ${(pct(alternating, 50) / pct(stub, 50)).toFixed(1)}x`);
await api.close();
