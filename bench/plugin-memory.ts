// Plugin memory as the controller's pod sees it: RSS of the plugin process idle (after
// InitPlugin and one SetWeight, client loaded) and after N more calls (SetWeight and
// VerifyWeight, a reconcile's worth each, the weight changing every 10th), for our bundle as
// shipped (it sizes its heap at run time, src/plugin/heap.ts), our bundle with the heap flags
// on node's command line instead (the way before: a slower start, see plugin-coldstart.ts),
// and the Go stub plugin, under realhost. Goals: ≤ 50 MB idle, ≤ 60 MB after 10 000 calls.
//   node --import tsx bench/plugin-memory.ts [--calls 10000] [--host gphost]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLUGIN_NODE_FLAGS } from '../scripts/bundle.mjs';
import { arg, bundle, cluster, HOST_BIN, PLUGIN_ENV, STUB, ours } from './plugin-support.js';

const calls = arg('calls', 10_000);
const SETTLE_MS = 1500;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Plays the scenario and reads the plugin's RSS SETTLE_MS into each Sleep. */
async function measure(name: string, argv: string[], rollout: unknown): Promise<{ idle: number; after: number }> {
  const reconcile = (i: number) => [
    { method: 'SetWeight', desiredWeight: i % 10 === 0 ? 20 : 10 },
    { method: 'VerifyWeight', desiredWeight: i % 10 === 0 ? 20 : 10 },
  ];
  const scenario = {
    rollout,
    calls: [
      { method: 'InitPlugin' },
      ...reconcile(1),
      { method: 'Sleep', ms: SETTLE_MS + 1000 },
      ...Array.from({ length: calls / 2 }, (_, i) => reconcile(i)).flat(),
      { method: 'Sleep', ms: SETTLE_MS + 1000 },
    ],
  };
  const file = join(mkdtempSync(join(tmpdir(), 'plugin-mem-')), `${name}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  const child = spawn(HOST_BIN, ['-kind', 'trafficrouter', '-scenario', file, '-log-level', 'off', '--', ...argv], { env: PLUGIN_ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  const sleeps = scenario.calls.flatMap((c, i) => (c.method === 'Sleep' ? [i] : []));
  const readings: Promise<number>[] = [];
  let pid = 0;
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) {
      const line = JSON.parse(l) as { i: number; ok: boolean; result?: { pid?: number } };
      if (!line.ok) throw new Error(`${name}: ${l}`);
      if (line.i === -1) pid = line.result!.pid!;
      // The line before a Sleep: the Sleep has just begun.
      if (sleeps.includes(line.i + 1)) readings.push(new Promise((r) => setTimeout(() => r(rssMb(pid)), SETTLE_MS)));
    }
  });
  await new Promise((r) => child.on('close', r));
  const [idle, after] = await Promise.all(readings);
  return { idle: idle!, after: after! };
}

const c = await cluster();
const plugin = await bundle();
const budget = ['--kube-qps', '100000', '--kube-burst', '100000'];
const COMMAND_LINE_HEAP_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=64'];
const results = {
  shipped: await measure('ours', ours(plugin, c, budget), c.rollout),
  commandLine: await measure('ours-command-line-flags', ours(plugin, c, budget, [...PLUGIN_NODE_FLAGS, ...COMMAND_LINE_HEAP_FLAGS]), c.rollout),
  stub: await measure('stub', [STUB], c.rollout),
};
console.log(`\nPlugin RSS (node ${process.version}, launcher flags: ${PLUGIN_NODE_FLAGS.join(' ') || 'none'})\n`);
console.log(`| what | ours | ours with ${COMMAND_LINE_HEAP_FLAGS.join(' ')} | Go stub | ratio | goal |`);
console.log('|---|---|---|---|---|---|');
const mb = (v: number) => `${v.toFixed(1)} MB`;
console.log(`| RSS idle | ${mb(results.shipped.idle)} | ${mb(results.commandLine.idle)} | ${mb(results.stub.idle)} | ${(results.shipped.idle / results.stub.idle).toFixed(1)}x | ≤ 50 MB |`);
console.log(`| RSS after ${calls} calls | ${mb(results.shipped.after)} | ${mb(results.commandLine.after)} | ${mb(results.stub.after)} | ${(results.shipped.after / results.stub.after).toFixed(1)}x | ≤ 60 MB |`);
await c.api.close();
