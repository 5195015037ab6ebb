// Records what the plugin bundle keeps from a first reconcile (calls.gob: a Rollout's first
// reconcile as Argo Rollouts' own plugin client sent it; capture.ts beside this file):
// - the gob type definitions the controller sends (src/plugin/gob/known-types.ts), decoded
//   from calls.gob;
// - unless `argv` is absent, the core's V8 code cache (src/cli/plugin-loader.ts reads it):
//   starts the bundle as the controller does (same node, same flags), against the in-process
//   API server seeded with examples/pinned-routes, replays calls.gob on its plugin stream, and
//   closes the connection; the plugin writes the cache as it exits. The recorded functions
//   are those a real first reconcile compiles.
// scripts/bundle.mjs bundles this file and runs it:  node record.mjs '<Options as JSON>'
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifests } from '../../src/cli/manifests.js';
import { startApiServer } from '../../src/kube/apiserver/index.js';
import { GobDecoder } from '../../src/plugin/gob/index.js';
import { serializeKnownTypes, type KnownType } from '../../src/plugin/gob/known-types.js';
import { DISPENSE_NAMES, MAGIC_COOKIE_KEY, PluginKind } from '../../src/plugin/goplugin.js';
import { NetRpcClient, StringType } from '../../src/plugin/netrpc.js';
import { YamuxSession } from '../../src/plugin/yamux/index.js';

interface Options {
  /** argv that starts the bundle: node, its flags, the entry; absent: no code cache. */
  argv?: string[];
  /** Where the code cache goes. */
  out: string;
  /** Where the type definitions go. */
  knownTypes: string;
  recordEnv: string;
  calls: string;
  examples: string;
}

const TIMEOUT_MS = 60_000;

const options = JSON.parse(process.argv[2]!) as Options;
const calls = splitCalls(readFileSync(options.calls), options.knownTypes);
if (!options.argv) process.exit(0);
const api = await startApiServer({ simulateGateway: true });
const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
const timer = setTimeout(() => fail(new Error(`no cache recorded within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
try {
  for (const file of ['gateway.yaml', 'services.yaml', 'httproutes.yaml']) api.apply(await readManifests(join(options.examples, file)));
  const kubeconfig = join(dir, 'kubeconfig.json');
  writeFileSync(kubeconfig, api.kubeConfig().exportConfig(), { mode: 0o600 });
  rmSync(options.out, { force: true });
  await replay(options, kubeconfig);
  if (!(statSync(options.out).size > 0)) throw new Error(`${options.out} is empty`);
  clearTimeout(timer);
} catch (err) {
  fail(err);
} finally {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}

function fail(err: unknown): never {
  process.stderr.write(`record.ts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

async function replay(o: Options, kubeconfig: string): Promise<void> {
  const [node, ...args] = o.argv!;
  const child = spawn(node!, [...args, '--kubeconfig', kubeconfig, '--log-level', process.env.RECORD_LOG_LEVEL ?? 'error'], {
    env: { ...process.env, [MAGIC_COOKIE_KEY]: PluginKind.TrafficRouter, [o.recordEnv]: o.out },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const socket = await connected(await handshakeAddress(child.stdout));
  const session = new YamuxSession(socket, { client: true });
  // The host's order (src/plugin/goplugin.ts): control stream, stdout and stderr, then the plugin's.
  const control = new NetRpcClient(session.open());
  session.open().resume();
  session.open().resume();
  const id = Number(await control.call('Dispenser.Dispense', StringType, DISPENSE_NAMES[PluginKind.TrafficRouter]));
  const stream = session.open();
  const brokerId = Buffer.alloc(4);
  brokerId.writeUInt32LE(id);
  stream.write(brokerId);
  // One call at a time, each once the previous one is answered, as the controller calls.
  // Replies come as a header and a body value, after the echoed broker id.
  const replies = new GobDecoder();
  let echoed = 0;
  let values = 0;
  let answered: () => void = () => {};
  stream.on('data', (chunk: Buffer) => {
    const skip = Math.min(4 - echoed, chunk.length);
    echoed += skip;
    replies.feed(chunk.subarray(skip));
    while (replies.next()) if (++values % 2 === 0) answered();
  });
  for (const call of calls) {
    await new Promise<void>((resolve, reject) => {
      answered = resolve;
      stream.once('error', reject);
      stream.write(call);
    });
  }
  session.close();
  const code = await exited;
  if (code !== 0) throw new Error(`the plugin exited with ${code}`);
}

/**
 * The recording cut into its requests: net/rpc sends each as a header value and an argument
 * value, with the type definitions they need as messages before them. Writes those
 * definitions to `knownTypesFile` on the way.
 */
function splitCalls(bytes: Buffer, knownTypesFile: string): Buffer[] {
  const knownTypes = new Map<string, KnownType>();
  const decoder = new GobDecoder({ recordTypes: knownTypes });
  const calls: Buffer[] = [];
  let from = 0;
  let values = 0;
  for (let at = 0; at < bytes.length; ) {
    // A gob message: its length as a gob uint (one byte below 128, else 256 - n length bytes), then the bytes.
    const first = bytes[at]!;
    const lengthBytes = first < 128 ? 0 : 256 - first;
    const length = first < 128 ? first : bytes.readUIntBE(at + 1, lengthBytes);
    const end = at + 1 + lengthBytes + length;
    decoder.feed(bytes.subarray(at, end));
    at = end;
    while (decoder.next()) {
      if (++values % 2 === 1) continue;
      calls.push(bytes.subarray(from, at));
      from = at;
    }
  }
  decoder.finish();
  writeFileSync(knownTypesFile, serializeKnownTypes(knownTypes));
  return calls;
}

function handshakeAddress(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      // CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL
      if (out.includes('\n')) resolve(line!.split('|')[3]!);
    });
    stdout.on('end', () => reject(new Error(`the plugin printed no handshake line: ${out}`)));
  });
}

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}
