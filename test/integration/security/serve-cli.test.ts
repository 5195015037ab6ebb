import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, httpRoute, STABLE } from '../plugin/support.js';
import { requireTool } from '../../support/tooling.js';
import { controllerToken, seedWithStoredRollout, tokenFile } from './support.js';

// `serve` as an operator runs it: against a cluster it authenticates every call and serves TLS
// whose certificate can be replaced while it runs; unauthenticated serving stays on loopback
// unless explicitly allowed; dev mode says that it does not authenticate.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
const ROLLOUT = join(ROOT, 'examples', 'pinned-routes', 'rollout.yaml');
const { KUBECONFIG: _kc, KUBERNETES_SERVICE_HOST: _host, ...inherited } = process.env;
const env = { ...inherited, LOG_LEVEL: 'info' };

/** A self-signed certificate for 127.0.0.1 (its own CA) written as cert/key files in `dir`. */
async function selfSigned(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** Starts `serve`; resolves with the process, the gRPC address and what it wrote to stderr so far. */
async function serve(args: string[]): Promise<{ child: ChildProcess; grpc: string; stderr: string[] }> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--http-listen', '127.0.0.1:0', '--no-long-lived-canaries', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const grpc = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const rec = JSON.parse(line) as { msg: string; grpc?: string };
      if (rec.msg === 'rollouts-companion serving') resolve(rec.grpc!);
    });
  });
  return { child, grpc, stderr };
}

const call = (args: string[]) =>
  run(process.execPath, [...CLI, 'call', 'SetWeight', '--rollout', ROLLOUT, ...args], { env }).then(
    ({ stdout }) => JSON.parse(stdout) as { error: string },
    (err: { stdout: string }) => JSON.parse(err.stdout) as { error: string },
  );

describe('serve: authentication and TLS as deployed', function () {
  // Every step starts a CLI process (tsx compiles on start): slow on a busy machine.
  this.timeout(240_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let api: ApiServer | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rc-serve-'));
  });
  afterEach(async () => {
    child?.kill('SIGTERM');
    child = undefined;
    await api?.close();
    api = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to listen beyond loopback without authentication', async () => {
    const failed = await run(process.execPath, [...CLI, 'serve', '--dev', '--dev-dir', dir, '--listen', '0.0.0.0:0', '--http-listen', '127.0.0.1:0'], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((failed as { code: number }).code).to.equal(1);
    expect((failed as { stderr: string }).stderr).to.include('refusing to serve gRPC on 0.0.0.0:0 without authentication');
  });

  it('says in its dev-mode banner that calls are not authenticated', async () => {
    const started = await serve(['--dev', '--dev-dir', dir, '--listen', '127.0.0.1:0']);
    child = started.child;
    // The banner goes to stderr right after the log line on stdout: wait for it.
    const banner = await new Promise<string>((resolve) => {
      const check = () => started.stderr.join('').includes('auth:') && resolve(started.stderr.join(''));
      check();
      started.child.stderr!.on('data', () => setImmediate(check));
    });
    expect(banner).to.match(/auth: +NONE: any process that can reach the gRPC port may move traffic \(dev mode only\)/);
  });

  it('against a cluster: TLS, the controller\'s token only, and a certificate replaced while serving', async function () {
    requireTool(this, await run('openssl', ['version']).then(() => true, () => false), 'openssl makes the test certificates');
    api = await startApiServer({ simulateGateway: true });
    await seedWithStoredRollout(api);
    const kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    const first = await selfSigned(dir, 'first');
    const served = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
    await rename(first.cert, served.cert);
    await rename(first.key, served.key);
    const started = await serve(['--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--tls-cert', served.cert, '--tls-key', served.key, '--tls-refresh-seconds', '1']);
    child = started.child;
    const token = tokenFile(controllerToken(api));
    const ca = join(dir, 'ca-first.crt');
    await run('cp', [served.cert, ca]);

    // Without a token: refused, nothing written
    expect((await call(['--address', started.grpc, '--ca', ca, '--weight', '10'])).error).to.match(/rejected SetWeight: no ServiceAccount token/);
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: undefined, [CANARY]: undefined });
    // With the controller's token over TLS: served
    expect((await call(['--address', started.grpc, '--ca', ca, '--token-file', token, '--weight', '10'])).error).to.equal('');
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 90, [CANARY]: 10 });

    // When the certificate files are replaced (as the kubelet does for an updated Secret)
    const second = await selfSigned(dir, 'second');
    await rename(second.cert, served.cert);
    await rename(second.key, served.key);
    await new Promise((r) => setTimeout(r, 2500));
    // Then new connections get the new certificate without a restart
    expect((await call(['--address', started.grpc, '--ca', join(dir, 'ca-first.crt'), '--token-file', token, '--weight', '20'])).error).to.match(/unavailable|certificate|self.signed/i);
    const caSecond = join(dir, 'ca-second.crt');
    await run('cp', [served.cert, caSecond]);
    expect((await call(['--address', started.grpc, '--ca', caSecond, '--token-file', token, '--weight', '20'])).error).to.equal('');
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 80, [CANARY]: 20 });
  });
});
