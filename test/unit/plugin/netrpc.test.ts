import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { decodeTrafficRouterArgs } from '../../../src/plugin/go-to-kube.js';
import { decodeGobStream, GobEncoder, GobError, IntType } from '../../../src/plugin/gob/index.js';
import {
  BoolType,
  EmptyStructType,
  InterfaceType,
  NetRpcClient,
  NetRpcError,
  RpcErrorType,
  StringType,
  Uint32Type,
  VerifyWeightResponseType,
  lookupError,
  serveNetRpc,
  type NetRpcHandler,
  type RpcReply,
} from '../../../src/plugin/netrpc.js';
import { fixture, fixtureJson, plain } from '../../fixtures/gob/fixtures.js';
import { requireTool } from '../../support/tooling.js';

// The golden session (test/fixtures/gob/session-*.gob) is a real Go net/rpc client
// talking to a real Go net/rpc server whose receivers behave like `golden` below.

const SERVICES = {
  Control: ['Ping', 'Quit'],
  Dispenser: ['Dispense'],
  Plugin: ['InitPlugin', 'Type', 'UpdateHash', 'SetWeight', 'VerifyWeight', 'SetHeaderRoute', 'SetMirrorRoute', 'RemoveManagedRoutes'],
};

const rpcError = (message: string): RpcReply => ({ type: RpcErrorType, value: { ErrorString: message } });

const golden: NetRpcHandler = async (serviceMethod, args) => {
  const notFound = lookupError(serviceMethod, SERVICES);
  if (notFound) throw new Error(notFound);
  switch (serviceMethod) {
    case 'Control.Ping':
    case 'Control.Quit':
      return { type: EmptyStructType, value: {} };
    case 'Dispenser.Dispense':
      if (typeof args !== 'string') throw new Error('gob: decoding into local type *string, received remote type bool');
      if (args !== 'RpcTrafficRouterPlugin') throw new Error(`unknown plugin type: ${args}`);
      return { type: Uint32Type, value: 7 };
    case 'Plugin.InitPlugin':
      return rpcError('');
    case 'Plugin.Type':
      return { type: StringType, value: 'GoldenTrafficRouter' };
  }
  const method = serviceMethod.slice('Plugin.'.length);
  const a = decodeTrafficRouterArgs(method, args);
  const failure = (a.rollout.metadata.annotations?.['stub.gphost.io/fail'] ?? '').split(',').includes(method)
    ? `injected failure in ${method}`
    : '';
  if (method === 'VerifyWeight') {
    return { type: VerifyWeightResponseType, value: { Verified: a.desiredWeight === 0 ? 2 : 1, Err: { ErrorString: failure } } };
  }
  return rpcError(failure);
};

/** Two connected in-memory ends. */
function duplexPair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  return [Duplex.from({ readable: ba, writable: ab }), Duplex.from({ readable: ab, writable: ba })];
}

function collect(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => stream.on('end', () => resolve(Buffer.concat(chunks))));
}

describe('net/rpc server', () => {
  it("answers the Go client's session exactly as Go's net/rpc server did, byte for byte", async () => {
    const [client, server] = duplexPair();
    const served = serveNetRpc(server, golden);
    const replies = collect(client);
    client.end(fixture('session-requests.gob'));
    await served;
    const ours = await replies;
    const theirs = Buffer.from(fixture('session-responses.gob'));
    expect(plain(decodeGobStream(ours))).to.deep.equal(plain(decodeGobStream(theirs)));
    expect(ours.toString('hex')).to.equal(theirs.toString('hex'));
  });

  it('runs pipelined calls concurrently and answers each as it completes, with its Seq', async () => {
    const [a, b] = duplexPair();
    const release: Record<string, () => void> = {};
    serveNetRpc(b, (method) => new Promise((resolve) => (release[method] = () => resolve({ type: StringType, value: method }))));
    const order: string[] = [];
    const rpc = new NetRpcClient(a);
    const calls = ['S.First', 'S.Second', 'S.Third'].map((m) =>
      rpc.call(m, BoolType, true).then((v) => {
        order.push(v as string);
        return v;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(Object.keys(release)).to.have.members(['S.First', 'S.Second', 'S.Third']);
    release['S.Third']!();
    await calls[2];
    release['S.First']!();
    release['S.Second']!();
    expect(await Promise.all(calls)).to.deep.equal(['S.First', 'S.Second', 'S.Third']);
    expect(order).to.deep.equal(['S.Third', 'S.First', 'S.Second']);
    rpc.close();
  });

  it("answers an unknown method with Go's error text and keeps serving", async () => {
    const [a, b] = duplexPair();
    serveNetRpc(b, golden);
    const rpc = new NetRpcClient(a);
    await expectRejection(rpc.call('Plugin.Nope', InterfaceType, null), "rpc: can't find method Plugin.Nope");
    await expectRejection(rpc.call('Nope.Ping', BoolType, true), "rpc: can't find service Nope.Ping");
    await expectRejection(rpc.call('Ping', BoolType, true), 'rpc: service/method request ill-formed: Ping');
    expect(await rpc.call('Control.Ping', BoolType, true)).to.deep.equal({});
    expect(await rpc.call('Plugin.Type', InterfaceType, null)).to.equal('GoldenTrafficRouter');
    expect(await rpc.call('Dispenser.Dispense', StringType, 'RpcTrafficRouterPlugin')).to.equal(7);
    rpc.close();
  });

  it('answers a handler that throws, synchronously too, with the message', async () => {
    const [a, b] = duplexPair();
    serveNetRpc(b, () => {
      throw new Error('boom');
    });
    const rpc = new NetRpcClient(a);
    await expectRejection(rpc.call('S.M', BoolType, true), 'boom');
    rpc.close();
  });

  it('answers a reply that does not fit its type with an error instead of breaking the stream', async () => {
    const [a, b] = duplexPair();
    serveNetRpc(b, async (m) => (m === 'S.Bad' ? { type: Uint32Type, value: -1 } : { type: StringType, value: 'fine' }));
    const rpc = new NetRpcClient(a);
    await expectRejection(rpc.call('S.Bad', BoolType, true), /cannot encode the reply of S.Bad/);
    expect(await rpc.call('S.Good', BoolType, true)).to.equal('fine');
    rpc.close();
  });

  it('on bad gob stops reading, still sends the replies due, then ends the stream', async () => {
    const [a, b] = duplexPair();
    let finish!: () => void;
    const errors: Error[] = [];
    const served = serveNetRpc(b, () => new Promise((r) => (finish = () => r({ type: StringType, value: 'late' }))), {
      onError: (e) => errors.push(e),
    });
    const rpc = new NetRpcClient(a);
    const pending = rpc.call('S.Slow', BoolType, true);
    await new Promise((r) => setImmediate(r));
    a.write(Uint8Array.of(0x03, 0x01, 0x00, 0x00)); // a type definition with reserved id 1
    await new Promise((r) => setImmediate(r));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(GobError);
    finish();
    expect(await pending).to.equal('late');
    await served;
    expect(b.writableEnded).to.equal(true);
  });

  it('stops on a request header whose Seq is not a uint64 (negative, fractional), as Go cannot decode it', async () => {
    for (const [type, seq] of [[IntType, -1], [{ kind: 'float' }, 1.5]] as const) {
      const [a, b] = duplexPair();
      const errors: Error[] = [];
      const served = serveNetRpc(b, async () => ({ type: StringType, value: 'x' }), { onError: (e) => errors.push(e) });
      const request = { kind: 'struct', name: 'Request', fields: [{ name: 'ServiceMethod', type: StringType }, { name: 'Seq', type }] } as const;
      a.resume().end(new GobEncoder().encodeAll([[request, { ServiceMethod: 'S.M', Seq: seq }], [BoolType, true]]));
      await served;
      expect(errors.map((e) => e.message)).to.deep.equal(['rpc: server cannot decode request: the header is not a net/rpc Request']);
    }
  });

  it('ends the stream when the client hangs up, after the replies due', async () => {
    const [a, b] = duplexPair();
    const served = serveNetRpc(b, async () => ({ type: StringType, value: 'x' }));
    const out = collect(a);
    const rpc = new NetRpcClient(a);
    const done = rpc.call('S.M', BoolType, true);
    a.end();
    await served;
    expect(await done).to.equal('x');
    expect((await out).length).to.be.greaterThan(0);
  });

  it('serves a live Go net/rpc client (built by `npm test`\'s scripts/ensure-gphost.sh)', async function () {
    const gen = new URL('../../../.build/gob-gen/gen', import.meta.url).pathname;
    requireTool(this, existsSync(gen), `${gen} is missing: scripts/ensure-gphost.sh builds it`);
    const server = createServer((socket) => void serveNetRpc(socket, golden));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const scenario = new URL('../../fixtures/gob/gen/wiretap-scenario.json', import.meta.url).pathname;
      const child = spawn(gen, ['-client', `127.0.0.1:${port}`, '-scenario', scenario]);
      const out = collect(child.stdout as unknown as Duplex);
      const code = await new Promise((r) => child.on('close', r));
      expect(code).to.equal(0);
      const lines = (await out).toString().trim().split('\n').map((l) => JSON.parse(l) as { serviceMethod: string; error?: string; reply: unknown });
      const want = fixtureJson<{ serviceMethod: string; error: string; reply: unknown }[]>('session.json');
      expect(lines.map((l) => ({ serviceMethod: l.serviceMethod, error: l.error ?? '', reply: l.reply }))).to.deep.equal(want);
    } finally {
      server.close();
    }
  });
});

describe('net/rpc lookup errors', () => {
  it("match Go's texts", () => {
    expect(lookupError('Plugin.Type', SERVICES)).to.equal(undefined);
    expect(lookupError('Plugin.Nope', SERVICES)).to.equal("rpc: can't find method Plugin.Nope");
    expect(lookupError('constructor.x', SERVICES)).to.equal("rpc: can't find service constructor.x");
    expect(lookupError('a.b.c', SERVICES)).to.equal("rpc: can't find service a.b.c");
  });
});

async function expectRejection(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(NetRpcError);
    if (typeof message === 'string') expect((e as Error).message).to.equal(message);
    else expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail('the call succeeded');
}
