import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';

import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';

describe('in-process API server: kubeconfig', () => {
  let server: ApiServer;
  let dir: string;
  beforeEach(async () => {
    server = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'apiserver-kubeconfig-'));
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a private kubeconfig file that client-node can load and use', async () => {
    const path = join(dir, 'kubeconfig');
    await server.writeKubeconfig(path);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);

    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getCurrentCluster()?.server).to.equal(server.url);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).to.equal('default');
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).to.include('default');
  });

  it('serves the discovery documents clients start from', async () => {
    const json = async (path: string) => (await fetch(server.url + path)).json() as Promise<Record<string, unknown>>;
    expect(await json('/version')).to.include({ major: '1' });
    expect(await json('/api')).to.include({ kind: 'APIVersions' });
    const groups = (await json('/apis')) as { groups: { name: string; preferredVersion: { version: string } }[] };
    expect(groups.groups.find((g) => g.name === 'gateway.networking.k8s.io')?.preferredVersion.version).to.equal('v1');
    const gw = (await json('/apis/gateway.networking.k8s.io/v1')) as { resources: { name: string; namespaced: boolean; shortNames?: string[] }[] };
    expect(gw.resources.find((r) => r.name === 'httproutes')).to.deep.include({ namespaced: true, shortNames: ['httproute'] });
    expect(gw.resources.map((r) => r.name)).to.include('httproutes/status');
  });
});
