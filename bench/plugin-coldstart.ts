// Plugin cold start as the controller feels it: exec → handshake → first reply (InitPlugin),
// and exec → first SetWeight answered (the route read through the Kubernetes client), for our
// bundle (in-process mode against the in-process API server) and the Go stub plugin, under
// realhost (the controller's own client). `node -e 0` (spawn → exit) in the same run is
// node's own start-up: the goal is ready for SetWeight ≤ 60 ms after it. Ready is also read
// from the plugin's own "ready" log line (router built and warmed, on node's clock, which
// starts with the process), against node's clock when `node -e` starts running its code.
//   node --import tsx bench/plugin-coldstart.ts [--runs 15] [--host gphost]
import { spawn } from 'node:child_process';
import { bundle, cluster, header, ours, pct, playLogged, row, STUB, arg, fmt, PLUGIN_ENV } from './plugin-support.js';

const runs = arg('runs', 15);

function nodeStartMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { env: PLUGIN_ENV, stdio: 'ignore' });
    child.on('exit', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    child.on('error', reject);
  });
}

/** node's clock once `node -e` runs its code. */
function nodeClockMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', 'process.stdout.write(String(performance.now()))'], { env: PLUGIN_ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    let clock = '';
    child.stdout.on('data', (d: Buffer) => (clock += d.toString()));
    child.on('close', () => resolve(Number(clock)));
    child.on('error', reject);
  });
}

interface Start {
  handshake: number;
  firstReply: number;
  setWeight: number;
  /** The plugin's "ready" line: ms on its node clock (ours only). */
  ready: number;
}

const c = await cluster();
const scenario = { rollout: c.rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 10 }] };
async function start(name: string, argv: string[]): Promise<Start> {
  const { lines, stderr } = await playLogged(name, scenario, argv, false, 'info');
  const [s, init, sw] = lines;
  const ready = Number(/plugin ready:.* startupMs=(\d+)/.exec(stderr)?.[1] ?? NaN);
  return { handshake: s!.durationMs, firstReply: s!.durationMs + init!.durationMs, setWeight: s!.durationMs + init!.durationMs + sw!.durationMs, ready };
}

const plugin = await bundle();
const argv = ours(plugin, c, ['--kube-qps', '1000', '--kube-burst', '1000', '--log-level', 'info']);
await start('warm-ours', argv); // page cache
await start('warm-stub', [STUB]);
const node: number[] = [];
const clocks: number[] = [];
const mine: Start[] = [];
const stub: Start[] = [];
for (let i = 0; i < runs; i++) {
  node.push(await nodeStartMs());
  clocks.push(await nodeClockMs());
  mine.push(await start('ours', argv));
  stub.push(await start('stub', [STUB]));
}
const p50 = (xs: Start[], k: keyof Start) => pct(xs.map((x) => x[k]), 50);
header(`Cold start, p50 of ${runs} runs`);
row('exec → handshake line', p50(mine, 'handshake'), p50(stub, 'handshake'));
row('exec → first reply (InitPlugin answered)', p50(mine, 'firstReply'), p50(stub, 'firstReply'));
row('exec → first SetWeight answered', p50(mine, 'setWeight'), p50(stub, 'setWeight'));
const base = pct(node, 50);
const clock = pct(clocks, 50);
const ready = p50(mine, 'ready');
console.log(`\nnode -e 0 (spawn → exit): p50 ${fmt(base)}; ours answers the first SetWeight ${fmt(p50(mine, 'setWeight') - base)} after it (goal: ready ≤ 60 ms after it)`);
console.log(`node's clock when node -e runs its code: p50 ${fmt(clock)}; ours logs ready at ${fmt(ready)} on its clock, ${fmt(ready - clock)} after that`);
await c.api.close();
