import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pluginArgv } from './support.js';

// The plugin as a process, the way go-plugin sees it: cookie, handshake line, socket,
// signals, and what happens when the host disappears.

const COOKIE = { ARGO_ROLLOUTS_RPC_PLUGIN: 'trafficrouter' };
const HANDSHAKE = /^1\|1\|unix\|(\/.+)\|netrpc\|$/;

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function start(env: NodeJS.ProcessEnv, args: string[] = ['--kubeconfig', '/nonexistent/kubeconfig']): Promise<Started> {
  const argv = await pluginArgv(args);
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function handshake(p: Started): Promise<string> {
  for (let i = 0; i < 300 && !p.stdout().includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
  const line = p.stdout().split('\n')[0]!;
  const match = HANDSHAKE.exec(line);
  if (!match) throw new Error(`no handshake line; stdout=${JSON.stringify(p.stdout())} stderr=${p.stderr()}`);
  return match[1]!;
}

describe('plugin process', function () {
  this.timeout(60_000);

  it('refuses to run without the magic cookie: a human message on stderr, exit 1, nothing on stdout', async () => {
    const p = await start({ ARGO_ROLLOUTS_RPC_PLUGIN: '' });
    const { code } = await p.exited;
    expect(code).to.equal(1);
    expect(p.stdout()).to.equal('');
    expect(p.stderr()).to.match(/This binary is a plugin/);
    expect(p.stderr()).to.include('ARGO_ROLLOUTS_RPC_PLUGIN=trafficrouter');
  });

  it('prints exactly one handshake line for a private socket in PLUGIN_UNIX_SOCKET_DIR, and removes it on SIGTERM', async () => {
    // Given a socket directory of our choosing
    const dir = mkdtempSync(join(tmpdir(), 'plugin-sockets-'));
    const p = await start({ ...COOKIE, PLUGIN_UNIX_SOCKET_DIR: dir });
    // Then the handshake names a socket inside it, readable by the owner only
    const socket = await handshake(p);
    expect(dirname(dirname(socket))).to.equal(dir);
    expect(statSync(socket).isSocket()).to.equal(true);
    expect(statSync(socket).mode & 0o777).to.equal(0o600);
    expect(statSync(dirname(socket)).mode & 0o777).to.equal(0o700);
    // When the process is told to terminate
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    // Then it exits cleanly, leaves no socket, and never wrote anything but the handshake to stdout
    expect(code).to.equal(0);
    expect(existsSync(socket)).to.equal(false);
    expect(p.stdout().split('\n').filter((l) => l !== '')).to.have.length(1);
  });

  it('lets a group connect when the host asks for it (PLUGIN_UNIX_SOCKET_GROUP)', async () => {
    const gid = process.getgid!();
    const p = await start({ ...COOKIE, PLUGIN_UNIX_SOCKET_GROUP: String(gid) });
    const socket = await handshake(p);
    expect(statSync(socket).gid).to.equal(gid);
    expect(statSync(socket).mode & 0o777).to.equal(0o660);
    expect(statSync(dirname(socket)).mode & 0o777).to.equal(0o750);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).to.equal(0);
  });

  it('ignores SIGINT (meant for the host\'s terminal) like go-plugin servers do', async () => {
    const p = await start(COOKIE);
    const socket = await handshake(p);
    p.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect([p.child.exitCode, p.child.signalCode]).to.deep.equal([null, null]);
    expect(existsSync(socket)).to.equal(true);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).to.equal(0);
  });

  it('exits and removes its socket when its parent dies without closing it', async () => {
    // Given a plugin started by a parent that then dies abruptly (SIGKILL: no Control.Quit, no signal to the child)
    const argv = await pluginArgv(['--kubeconfig', '/nonexistent/kubeconfig']);
    const parentScript = `
      const { spawn } = require('node:child_process');
      const c = spawn(${JSON.stringify(argv[0])}, ${JSON.stringify(argv.slice(1))}, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ARGO_ROLLOUTS_RPC_PLUGIN: 'trafficrouter' } });
      c.stdout.once('data', (d) => process.stdout.write(c.pid + ' ' + d));
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 20));
    const [pid, line] = out.trim().split(' ');
    const socket = HANDSHAKE.exec(line!)![1]!;
    expect(existsSync(socket)).to.equal(true);
    // When the parent is killed
    parent.kill('SIGKILL');
    // Then the orphaned plugin notices, exits and cleans up
    let alive = true;
    for (let i = 0; i < 250 && alive; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive = isRunning(Number(pid));
    }
    expect(alive, 'plugin still running after its parent died').to.equal(false);
    expect(existsSync(socket)).to.equal(false);
  });
});

/** Running, not a zombie nobody reaped yet (the orphan's new parent may not be quick about it). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
