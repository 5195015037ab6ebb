import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// Builds and runs test/fixtures/yamux (hashicorp/yamux, the version go-plugin 1.0.1 links)
// in GOPATH mode against Debian's /usr/share/gocode.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/yamux');
const OUT = join(ROOT, '.build/yamuxpeer');
export const YAMUX_PEER = join(OUT, 'yamuxpeer');

export async function buildYamuxPeer(): Promise<boolean> {
  try {
    await promisify(execFile)('go', ['version']);
  } catch {
    return false;
  }
  mkdirSync(OUT, { recursive: true });
  await promisify(execFile)('go', ['build', '-o', YAMUX_PEER, 'yamuxpeer'], {
    cwd: FIXTURE,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOFLAGS: '',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
      GOPATH: `${FIXTURE}:/usr/share/gocode`,
      GOCACHE: join(OUT, 'gocache'),
    },
  });
  return true;
}

export function socketPath(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'yamux-')), name);
}

export interface PeerRun {
  child: ChildProcess;
  /** Resolves with the JSON summary; rejects with stderr on a non-zero exit. */
  result: Promise<Record<string, unknown>>;
  /** Resolves once a server-mode peer listens. */
  ready: Promise<void>;
}

export function runPeer(args: string[]): PeerRun {
  const child = spawn(YAMUX_PEER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((res) => (onReady = res));
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.startsWith('ready\n')) onReady();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Record<string, unknown>>((res, rej) => {
    child.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`yamuxpeer exited ${code}: ${stderr}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      res(JSON.parse(last) as Record<string, unknown>);
    });
  });
  return { child, result, ready };
}
