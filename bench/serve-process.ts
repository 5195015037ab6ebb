// `rollouts-companion serve` as users run it, in its own process (the bundle, no tsx, no API
// server inside), against the in-process API server running in the bench's process; RSS read
// from /proc so it is the companion's alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiServer } from '../src/kube/apiserver/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServeProcess {
  child: ChildProcess;
  /** http://host:port of /healthz, /readyz, /metrics. */
  http: string;
  /** host:port of the gRPC service. */
  grpc: string;
  /** Current and peak resident set size, bytes. */
  rss(): { now: number; peak: number };
  stop(): Promise<void>;
}

/** The node flags of the companion image's ENTRYPOINT (the shipped defaults). */
export function shippedNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  if (!entrypoint) throw new Error('no ENTRYPOINT in Dockerfile');
  return (JSON.parse(entrypoint) as string[]).filter((arg) => arg.startsWith('--'));
}

export async function bundleServe(): Promise<string> {
  const { bundleCompanion } = (await import(join(ROOT, 'scripts/bundle.mjs'))) as {
    bundleCompanion(o: { outdir: string; minify?: boolean }): Promise<string>;
  };
  return bundleCompanion({ outdir: join(ROOT, '.build/serve-bench'), minify: true });
}

export async function startServe(
  api: ApiServer,
  bundle: string,
  args: string[] = [],
  nodeFlags: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'serve-bench-')), 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  const child = spawn(
    process.execPath,
    [...nodeFlags, bundle, 'serve', '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--log-level', 'info', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  let out = '';
  const [http, grpc] = await new Promise<[string, string]>((resolveAddresses, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // The "serving" log line names both addresses (whatever else it carries, in any order).
      const grpc = /"grpc":"([^"]+)"/.exec(out)?.[1];
      const http = /"http":"([^"]+)"/.exec(out)?.[1];
      if (grpc && http) resolveAddresses([`http://${http.replace(/^0\.0\.0\.0/, '127.0.0.1')}`, grpc]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before serving:\n${out.slice(-2000)}`)));
  });
  const status = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  };
  return {
    child,
    http,
    grpc,
    rss: () => ({ now: status('VmRSS'), peak: status('VmHWM') }),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function waitReady(serve: ServeProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${serve.http}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('serve did not become ready');
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
