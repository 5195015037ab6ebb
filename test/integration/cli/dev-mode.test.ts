import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { routeReader, STABLE, CANARY } from '../../scenarios/pinned-routes.js';
import { ruleWeights } from '../../support/routes.js';

// The newcomer's path: `serve` without KUBECONFIG starts the dev API server seeded from
// examples/pinned-routes; `call` moves canary-route; `status` shows it; pinned routes stay put.

const run = promisify(execFile);
const CLI = ['--import', 'tsx', join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts')];
const ROLLOUT = join(import.meta.dirname, '..', '..', '..', 'examples', 'pinned-routes', 'rollout.yaml');

describe('rollouts-companion serve (dev mode), call and status', function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let dir: string;
  let grpcAddress: string;
  let kubeconfig: string;
  let gatewayUrl: string;
  const { KUBECONFIG: _kc, KUBERNETES_SERVICE_HOST: _host, ...inherited } = process.env;
  const env = { ...inherited, LOG_LEVEL: 'info' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rc-dev-'));
    child = spawn(process.execPath, [...CLI, 'serve', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--gateway-listen', '127.0.0.1:0', '--dev-dir', join(dir, 'state')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    const stderr: string[] = [];
    child.stderr!.on('data', (d) => stderr.push(String(d)));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr.join('')}`)));
      lines.on('line', (line) => {
        const rec = JSON.parse(line) as { msg: string; grpc?: string; kubeconfig?: string; gateway?: string };
        if (rec.kubeconfig) kubeconfig = rec.kubeconfig;
        if (rec.gateway) gatewayUrl = rec.gateway;
        if (rec.msg === 'rollouts-companion serving') {
          grpcAddress = rec.grpc!;
          resolve();
        }
      });
    });
  });

  after(async () => {
    child?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('says it is in dev mode and writes a kubeconfig for the embedded API server', () => {
    expect(kubeconfig).to.equal(join(dir, 'state', 'kubeconfig'));
  });

  it('serves real traffic on the gateway port, and `status --request` says which rule and backends a request reaches', async () => {
    const { stdout } = await run(process.execPath, [...CLI, 'call', 'SetWeight', '--address', grpcAddress, '--rollout', ROLLOUT, '--weight', '100'], { env });
    expect(JSON.parse(stdout)).to.deep.equal({ error: '' });
    const answer = (host: string) =>
      new Promise<string>((resolve, reject) => {
        request(`${gatewayUrl}/`, { headers: { host } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject).end();
      });
    expect(await answer('app.example.com')).to.equal('canary\n');
    expect(await answer('old.example.com')).to.equal('stable\n');
    const status = await run(process.execPath, [...CLI, 'status', '--kubeconfig', kubeconfig, '--rollout', ROLLOUT, '--request', 'GET app.example.com/ X-Canary:yes'], { env });
    expect(status.stdout).to.equal('GET app.example.com/ X-Canary:yes\n  → HTTPRoute default/canary-route rule 0\n  → argo-rollouts-canary-service 100 %\n');
    const { stdout: back } = await run(process.execPath, [...CLI, 'call', 'SetWeight', '--address', grpcAddress, '--rollout', ROLLOUT, '--weight', '0'], { env });
    expect(JSON.parse(back)).to.deep.equal({ error: '' });
  });

  it('moves canary-route with `call SetWeight` while the pinned routes keep their resourceVersion', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const readRoute = routeReader(kc, 'default');
    const oldRv = (await readRoute('always-old-version')).metadata.resourceVersion;
    const newRv = (await readRoute('always-new-version')).metadata.resourceVersion;

    const { stdout } = await run(process.execPath, [...CLI, 'call', 'SetWeight', '--address', grpcAddress, '--rollout', ROLLOUT, '--weight', '10'], { env });
    expect(JSON.parse(stdout)).to.deep.equal({ error: '' });
    expect(ruleWeights(await readRoute('canary-route'))).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);

    const status = await run(process.execPath, [...CLI, 'status', '--kubeconfig', kubeconfig, '--rollout', ROLLOUT], { env });
    expect(status.stdout).to.match(/HTTPRoute default\/canary-route {2}\[managed, canary in progress\]/);
    expect(status.stdout).to.match(/argo-rollouts-canary-service\s+weight {2}10 {2}\(10%\)/);
    expect(status.stdout).to.match(/HTTPRoute default\/always-old-version {2}\[pinned: stable only\]/);

    expect((await readRoute('always-old-version')).metadata.resourceVersion).to.equal(oldRv);
    expect((await readRoute('always-new-version')).metadata.resourceVersion).to.equal(newRv);
  });

  it('answers a bad weight with a clear error and a non-zero exit', async () => {
    const err = await run(process.execPath, [...CLI, 'call', 'SetWeight', '--address', grpcAddress, '--rollout', ROLLOUT, '--weight', '150'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).to.equal(1);
    expect((err as { stderr: string }).stderr).to.match(/must be an integer from 0 to 100/);
  });
});
