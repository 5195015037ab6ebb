import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { requireTool } from '../../support/tooling.js';

const run = promisify(execFile);

const MANIFEST = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata:
  name: canary-route
  namespace: demo
spec:
  parentRefs:
  - name: gateway
  rules:
  - backendRefs:
    - name: stable
      port: 80
      weight: 100
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
data:
  mode: blue
`;

// kubectl is optional on developer machines (these tests are skipped without it); CI installs
// it, and there a missing kubectl fails the suite.
describe('in-process API server: kubectl', () => {
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;

  before(async function () {
    const kubectl = await run('kubectl', ['version', '--client']).then(() => true, () => false);
    requireTool(this, kubectl, 'kubectl is missing');
  });
  beforeEach(async () => {
    server = await startApiServer();
    server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    dir = await mkdtemp(join(tmpdir(), 'apiserver-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    await writeFile(join(dir, 'manifest.yaml'), MANIFEST);
  });
  afterEach(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const kubectl = async (...args: string[]) => (await run('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } })).stdout;

  it('applies manifests, then reports them unchanged, then configured', async () => {
    const manifest = join(dir, 'manifest.yaml');
    expect(await kubectl('apply', '-f', manifest)).to.contain('httproute.gateway.networking.k8s.io/canary-route created');
    expect(await kubectl('apply', '-f', manifest)).to.contain('configmap/settings unchanged');
    await writeFile(manifest, MANIFEST.replace('weight: 100', 'weight: 90'));
    expect(await kubectl('apply', '-f', manifest)).to.contain('httproute.gateway.networking.k8s.io/canary-route configured');
    const route = server.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'demo', 'canary-route')!;
    expect(route.metadata.generation).to.equal(2);
  });

  it('gets, labels, patches and deletes', async () => {
    await kubectl('apply', '-f', join(dir, 'manifest.yaml'));
    expect(await kubectl('get', 'httproute', '-n', 'demo')).to.match(/canary-route/);
    await kubectl('label', 'httproute', 'canary-route', '-n', 'demo', 'track=canary');
    await kubectl('label', 'configmap', 'settings', '-n', 'demo', 'track=canary');
    expect(await kubectl('get', 'httproutes,configmaps', '-n', 'demo', '-l', 'track=canary', '-o', 'name')).to.equal(
      'httproute.gateway.networking.k8s.io/canary-route\nconfigmap/settings\n',
    );
    await kubectl('patch', 'httproute', 'canary-route', '-n', 'demo', '--type=merge', '-p', '{"spec":{"hostnames":["shop.example"]}}');
    expect(await kubectl('get', 'httproute', 'canary-route', '-n', 'demo', '-o', 'jsonpath={.spec.hostnames[0]}')).to.equal('shop.example');
    await kubectl('delete', 'configmap', 'settings', '-n', 'demo');
    expect(server.get('v1', 'ConfigMap', 'demo', 'settings')).to.equal(undefined);
  });

  it('creates namespaces and configmaps imperatively (kubectl sends protobuf)', async () => {
    await kubectl('create', 'namespace', 'team-a');
    await kubectl('create', 'configmap', 'flags', '-n', 'team-a', '--from-literal=canary=on');
    expect(server.get('v1', 'ConfigMap', 'team-a', 'flags')?.['data']).to.deep.equal({ canary: 'on' });
  });

  it('shows custom resources as YAML and in tables, labels and patches pods', async () => {
    server.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'demo', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
    server.create({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web', namespace: 'demo' }, spec: { replicas: 2 } });
    await kubectl('apply', '-f', join(dir, 'manifest.yaml'));
    const yaml = await kubectl('get', 'httproutes', '-n', 'demo', '-o', 'yaml');
    expect(yaml).to.contain('kind: HTTPRoute').and.to.contain('name: canary-route').and.to.contain('weight: 100');
    expect(await kubectl('get', 'rollouts', '-n', 'demo')).to.match(/^NAME\s+AGE\nweb\s/);
    await kubectl('label', 'pod', 'web-1', '-n', 'demo', 'track=canary');
    await kubectl('patch', 'pod', 'web-1', '-n', 'demo', '-p', '{"metadata":{"labels":{"app":null,"tier":"front"}}}');
    expect(server.get('v1', 'Pod', 'demo', 'web-1')?.metadata.labels).to.deep.equal({ track: 'canary', tier: 'front' });
  });
});
