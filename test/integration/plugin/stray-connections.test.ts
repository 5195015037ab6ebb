import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { GobEncoder, IntType, StringType } from '../../../src/plugin/gob/index.js';
import { BoolType, NetRpcClient } from '../../../src/plugin/netrpc.js';
import { YamuxSession } from '../../../src/plugin/yamux/index.js';
import { HOST, pluginArgv, requireHost, type HostLine } from './support.js';

// Anybody who can reach the plugin's socket may connect to it. Like go-plugin's own server,
// the plugin keeps serving the host's session whatever such a connection does and however it
// ends; only the host's own connection closing ends the plugin.

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

/** The stray connections, each opened and closed while the host's session is live. */
const STRAYS: Record<string, (path: string) => Promise<void>> = {
  'random bytes': async (path) => {
    const socket = await connected(path);
    socket.on('error', () => {});
    socket.resume();
    socket.end(randomBytes(4096));
    await closed(socket);
  },
  'a garbage gob frame on a proper yamux stream': async (path) => {
    const socket = await connected(path);
    const session = new YamuxSession(socket, { client: true });
    const stream = session.open();
    stream.on('error', () => {});
    // A gob message of 9 bytes claiming type id -63 with a body that is not a type definition.
    stream.write(Buffer.from([0x09, 0x7d, 0xff, 0xff, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05]));
    await new Promise((r) => setTimeout(r, 100));
    session.close();
    await closed(socket);
  },
  'connect, then close': async (path) => {
    const socket = await connected(path);
    socket.resume();
    socket.end();
    await closed(socket);
  },
  'a broker stream that ends inside its 4-byte id': async (path) => {
    const socket = await connected(path);
    const session = new YamuxSession(socket, { client: true });
    // Control and the two std streams, then a broker stream with 2 of its 4 id bytes.
    for (let i = 0; i < 3; i++) session.open().on('error', () => {}).resume();
    session.open().on('error', () => {}).end(Buffer.from([1, 0]));
    await new Promise((r) => setTimeout(r, 100));
    session.close();
    await closed(socket);
  },
  'a request whose Seq is negative (typed int, not Go\'s uint64)': async (path) => {
    const socket = await connected(path);
    const session = new YamuxSession(socket, { client: true });
    const control = session.open().on('error', () => {});
    const request = { kind: 'struct', name: 'Request', fields: [{ name: 'ServiceMethod', type: StringType }, { name: 'Seq', type: IntType }] } as const;
    control.resume().write(new GobEncoder().encodeAll([[request, { ServiceMethod: 'Control.Ping', Seq: -1 }], [BoolType, true]]));
    await new Promise((r) => setTimeout(r, 100));
    session.close();
    await closed(socket);
  },
  'a well-formed Control.Ping, then close': async (path) => {
    const socket = await connected(path);
    const session = new YamuxSession(socket, { client: true });
    await new NetRpcClient(session.open()).call('Control.Ping', BoolType, true);
    session.close();
    await closed(socket);
  },
};

interface Played {
  code: number | null;
  lines: HostLine[];
  stderr: string;
}

/** Plays `calls` under the go-plugin host; `during` runs once the plugin's socket is known. */
async function playWithStrays(kubeconfig: string, kind: 'trafficrouter' | 'step', calls: Record<string, unknown>[], during: (path: string) => Promise<void>): Promise<Played> {
  requireHost();
  const file = join(mkdtempSync(join(tmpdir(), 'stray-')), 'scenario.json');
  const kubeconfigArgs = ['--kubeconfig', kubeconfig];
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'frontend', namespace: 'default' },
    spec: { strategy: { canary: { steps: [{ plugin: { name: 'rollouts-companion/lockstep', config: { gate: 'g', members: ['frontend'] } } }] } } },
  };
  writeFileSync(file, JSON.stringify({ rollout, calls }));
  const argv = await pluginArgv(kubeconfigArgs);
  const child = spawn(HOST, ['-kind', kind, '-scenario', file, '-timeout', '20s', '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let strays: Promise<void> | undefined;
  let strayError: unknown;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const start = stdout.split('\n').find((l) => l.includes('"method":"Start"'));
    if (start && !strays) {
      const addr = (JSON.parse(start) as { result: { addr: string } }).result.addr;
      strays = during(addr.replace(/^unix:/, '')).catch((e: unknown) => void (strayError = e));
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await strays;
  if (strayError) throw strayError;
  expect(strays, 'the host never printed its Start line').to.not.equal(undefined);
  return { code, lines: stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as HostLine), stderr };
}

describe('plugin socket: stray connections leave the host\'s session serving', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let kubeconfig: string;

  before(async () => {
    requireHost();
    await pluginArgv([]);
    api = await startApiServer();
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'stray-kube-')), 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
  });
  after(async () => {
    await api.close();
  });

  for (const kind of ['trafficrouter', 'step'] as const) {
    it(`${kind}: random bytes, garbage gob, a cut-off broker id, a negative Seq, connect-then-close and a ping-and-go, while the host waits`, async () => {
      // Given the host's live session (dispensed, pinged)
      const after =
        kind === 'step'
          ? [{ method: 'Type', expect: { type: 'rollouts-companion/lockstep' } }, { method: 'Run', expect: { ok: true, result: { phase: 'Error', message: '/members names no Rollout besides/' } } }]
          : [{ method: 'Type', expect: { type: 'rollouts-companion/gatewayAPI' } }];
      const calls = [{ method: 'InitPlugin' }, { method: 'Ping' }, { method: 'Sleep', ms: 4000 }, { method: 'Ping' }, ...after];
      // When each kind of stray connection comes and goes meanwhile
      const run = await playWithStrays(kubeconfig, kind, calls, async (path) => {
        for (const stray of Object.values(STRAYS)) await stray(path);
      });
      // Then every call of the host after them is answered, and the plugin ended only with the host's session
      const failed = run.lines.filter((l) => !l.ok || l.expectError);
      expect(failed, `${JSON.stringify(run.lines)}\n${run.stderr.slice(-3000)}`).to.deep.equal([]);
      expect(run.lines.map((l) => l.method)).to.deep.equal(['Start', 'InitPlugin', 'Ping', 'Sleep', 'Ping', ...after.map((c) => c.method)]);
      expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    });
  }
});
