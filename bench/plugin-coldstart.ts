// Plugin cold start as the controller feels it: exec → handshake → first reply (InitPlugin),
// and exec → first SetWeight answered (the route read through the Kubernetes client), for our
// bundle (in-process mode against the in-process API server) and the Go stub plugin, under
// realhost (the controller's own client). `node -e 0` (spawn → exit) in the same run is
// node's own start-up: the goal is ready for SetWeight ≤ 60 ms after it.
//   node --import tsx bench/plugin-coldstart.ts [--runs 15] [--host gphost]
import { spawn } from 'node:child_process';
import { bundle, cluster, header, ours, pct, play, row, STUB, arg, fmt, PLUGIN_ENV } from './plugin-support.js';

const runs = arg('runs', 15);

function nodeStartMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { env: PLUGIN_ENV, stdio: 'ignore' });
    child.on('exit', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    child.on('error', reject);
  });
}

interface Start {
  handshake: number;
  firstReply: number;
  setWeight: number;
}

const c = await cluster();
const scenario = { rollout: c.rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 10 }] };
async function start(name: string, argv: string[]): Promise<Start> {
  const [s, init, sw] = await play(name, scenario, argv);
  return { handshake: s!.durationMs, firstReply: s!.durationMs + init!.durationMs, setWeight: s!.durationMs + init!.durationMs + sw!.durationMs };
}

const plugin = await bundle();
const argv = ours(plugin, c, ['--kube-qps', '1000', '--kube-burst', '1000']);
await start('warm-ours', argv); // page cache
await start('warm-stub', [STUB]);
const node: number[] = [];
const mine: Start[] = [];
const stub: Start[] = [];
for (let i = 0; i < runs; i++) {
  node.push(await nodeStartMs());
  mine.push(await start('ours', argv));
  stub.push(await start('stub', [STUB]));
}
const p50 = (xs: Start[], k: keyof Start) => pct(xs.map((x) => x[k]), 50);
header(`Cold start, p50 of ${runs} runs`);
row('exec → handshake line', p50(mine, 'handshake'), p50(stub, 'handshake'));
row('exec → first reply (InitPlugin answered)', p50(mine, 'firstReply'), p50(stub, 'firstReply'));
row('exec → first SetWeight answered', p50(mine, 'setWeight'), p50(stub, 'setWeight'));
const base = pct(node, 50);
console.log(`\nnode -e 0 (spawn → exit): p50 ${fmt(base)}; ours ready for SetWeight ${fmt(p50(mine, 'setWeight') - base)} after it (goal ≤ 60 ms)`);
await c.api.close();
