// Plugin cold start: exec → handshake line on stdout, p50/p95 over N runs, for our bundle
// (dist/rollouts-companion-plugin.mjs, built first) and for the Go stub plugin.
//   node --import tsx bench/plugin-coldstart.ts [--runs 30]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundlePlugin } from '../scripts/bundle.mjs';

const ROOT = join(import.meta.dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;

function handshakeMs(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ARGO_ROLLOUTS_RPC_PLUGIN: 'trafficrouter', KUBECONFIG: join(ROOT, 'bench', 'missing-kubeconfig') },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (!/^1\|1\|unix\|.+\|netrpc\|/.test(out)) reject(new Error(`unexpected handshake: ${out}`));
      child.kill('SIGKILL');
      child.on('exit', () => resolve(ms));
    });
    child.on('error', reject);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function measure(name: string, argv: string[]) {
  await handshakeMs(argv); // warm the page cache
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await handshakeMs(argv));
  console.log(`${name.padEnd(28)} p50 ${pct(samples, 50).toFixed(1).padStart(7)} ms   p95 ${pct(samples, 95).toFixed(1).padStart(7)} ms   (${runs} runs)`);
  return pct(samples, 50);
}

const bundle = await bundlePlugin({ outdir: join(ROOT, '.build', 'bench-plugin'), minify: true });
console.log(`exec → handshake line (node ${process.version})`);
// The floor: node itself printing a line.
await measure('node -e (baseline)', [process.execPath, '-e', 'process.stdout.write("1|1|unix|/x|netrpc|\\n")']);
const ours = await measure('rollouts-companion (bundle)', [process.execPath, bundle]);
const stub = join(ROOT, '.build', 'gphost', 'stubplugin');
if (existsSync(stub)) {
  const go = await measure('gphost stubplugin (Go)', [stub]);
  console.log(`ratio p50 ours/stub: ${(ours / go).toFixed(1)}x`);
}
