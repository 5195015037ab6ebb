// Shared by the plugin benches: running a scenario under a go-plugin host (realhost, the
// Argo Rollouts controller's own client, by default), the plugin bundle as shipped, the
// Go stub plugin as the reference, the in-process API server with the seed's routes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePlugin, PLUGIN_NODE_FLAGS } from '../scripts/bundle.mjs';
import { startApiServer, type ApiServer } from '../src/kube/apiserver/index.js';
import type { Rollout } from '../src/routing/rollout.js';
import { seedPinnedRoutes } from '../test/support/seed.js';

export const ROOT = join(import.meta.dirname, '..');
const REALHOST = join(ROOT, '../shared/realhost/realhost');
const GPHOST = join(ROOT, '.build/gphost/host');
export const STUB = join(ROOT, '.build/gphost/stubplugin');
const dir = mkdtempSync(join(tmpdir(), 'plugin-bench-'));

/** `--host gphost` plays under the go-plugin host instead of realhost. */
export const HOST_BIN = process.argv.includes('--host') && process.argv[process.argv.indexOf('--host') + 1] === 'gphost' ? GPHOST : REALHOST;
if (!existsSync(HOST_BIN) || !existsSync(STUB)) throw new Error(`${HOST_BIN} or ${STUB} is missing: run scripts/ensure-gphost.sh`);

/**
 * The environment the controller's pod gives its plugins. This machine sets NODE_EXTRA_CA_CERTS,
 * which makes every node start read the system CA bundle (~40 ms, ~2 MB here); the controller's
 * image sets no such thing, so neither our plugin nor `node -e 0` runs with it.
 */
export const PLUGIN_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));

export function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

export interface Line {
  i: number;
  method: string;
  ok: boolean;
  durationMs: number;
  rpcError?: string;
  transportError?: string;
  result?: Record<string, unknown>;
}

/** Plays a scenario; every call must succeed (or, with `rpcErrorsOk`, at least be answered). */
export async function play(name: string, scenario: unknown, argv: string[], rpcErrorsOk = false): Promise<Line[]> {
  return (await playLogged(name, scenario, argv, rpcErrorsOk, 'off')).lines;
}

/** play, with the plugin's log lines at `logLevel` and up as the host relays them (its stderr). */
export async function playLogged(name: string, scenario: unknown, argv: string[], rpcErrorsOk: boolean, logLevel: string): Promise<{ lines: Line[]; stderr: string }> {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  const child = spawn(HOST_BIN, ['-kind', 'trafficrouter', '-scenario', file, '-log-level', logLevel, '--', ...argv], {
    env: PLUGIN_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => child.on('close', r));
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Line);
  const failed = lines.find((l) => !l.ok && !(rpcErrorsOk && l.rpcError !== undefined));
  if (code !== 0 || failed) throw new Error(`${name}: host exited ${code}: ${JSON.stringify(failed)}\n${out.slice(-2000)}\n${err.slice(-2000)}`);
  return { lines, stderr: err };
}

export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
export const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;

/** One table row: ours, the Go stub, and the ratio. */
export function row(what: string, ours: number, go: number | undefined, unit = 'ms'): void {
  const show = (v: number) => (unit === 'ms' ? fmt(v) : `${v.toFixed(0)} ${unit}`);
  const ratio = go === undefined ? '' : `${(ours / go).toFixed(1)}x`;
  console.log(`| ${what} | ${show(ours)} | ${go === undefined ? '—' : show(go)} | ${ratio} |`);
}

export function header(title: string): void {
  console.log(`\n${title} (node ${process.version}, host ${HOST_BIN.includes('realhost') ? 'realhost' : 'goplugin-host'})\n`);
  console.log('| what | ours | Go stub | ratio |');
  console.log('|---|---|---|---|');
}

export async function bundle(): Promise<string> {
  return bundlePlugin({ outdir: join(ROOT, '.build', 'bench-plugin'), minify: true });
}

export interface Cluster {
  api: ApiServer;
  kubeconfig: string;
  /** The seed's Rollout with metadata and status as the controller sends them. */
  rollout: Rollout;
}

export async function cluster(): Promise<Cluster> {
  const api = await startApiServer({ simulateGateway: true });
  const seeded = await seedPinnedRoutes(api);
  // JSON, as `kubectl config view --raw -o json` writes it: read without loading a YAML parser,
  // like the in-cluster credentials the plugin uses in the controller's pod (a YAML file adds
  // ~10 ms to the first call and ~1 MB).
  const kubeconfig = join(dir, 'kubeconfig.json');
  writeFileSync(kubeconfig, api.kubeConfig().exportConfig(), { mode: 0o600 });
  const rollout = {
    ...seeded,
    metadata: { ...seeded.metadata, uid: '6f1c2b9e-3d4a-4e8f-9a7b-1c2d3e4f5a6b', resourceVersion: '184213', generation: 12, creationTimestamp: '2025-03-02T10:15:00Z' },
    status: { currentPodHash: '7c9d8f6b5', stableRS: '5f6d7c8b9', currentStepIndex: 0, phase: 'Progressing' },
  } as Rollout;
  return { api, kubeconfig, rollout };
}

/** argv of our plugin in in-process mode against the cluster, with the launcher's node flags unless told otherwise. */
export function ours(bundlePath: string, c: Cluster, extra: string[] = [], nodeFlags: readonly string[] = PLUGIN_NODE_FLAGS): string[] {
  return [process.execPath, ...nodeFlags, bundlePath, '--kubeconfig', c.kubeconfig, '--log-level', 'warn', ...extra];
}
