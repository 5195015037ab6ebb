import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubeConfigForServer } from '../../../src/kube/kubeconfig.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { compareVersions, RouteVersions, routeVersionsOf } from '../../../src/kube/route-versions.js';
import { KubeRouteStore } from '../../../src/kube/route-store.js';

// Route API versions come from discovery: the newest version the cluster serves for each kind.

describe('kube: route API versions from discovery', () => {
  let api: ApiServer;
  before(async () => {
    api = await startApiServer();
  });
  after(async () => {
    await api.close();
  });

  it('orders versions as Kubernetes does: GA, beta, alpha; higher numbers first', () => {
    expect(['v1alpha2', 'v1beta1', 'v1', 'v1alpha3', 'v2'].sort(compareVersions)).to.deep.equal(['v2', 'v1', 'v1beta1', 'v1alpha3', 'v1alpha2']);
  });

  it('uses the newest served version of each kind (HTTPRoute v1, TCPRoute v1alpha2 here)', async () => {
    const versions = new RouteVersions(new KubeClient({ kubeConfig: api.kubeConfig() }));
    expect(await versions.resource('HTTPRoute')).to.deep.equal({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' });
    expect(await versions.resource('TCPRoute')).to.deep.equal({ group: 'gateway.networking.k8s.io', version: 'v1alpha2', plural: 'tcproutes' });
  });

  it('warms up once per client: a store created afterwards finds HTTPRoute\'s version known and asks the cluster nothing', async () => {
    // Given a client whose discovery was warmed up at start
    const kube = new KubeClient({ kubeConfig: api.kubeConfig() });
    const asked: string[] = [];
    kube.onRequest((r) => asked.push(`${r.verb} ${r.resource}`));
    routeVersionsOf(kube).warmUp();
    while (asked.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(asked).to.deep.equal(['get discovery']);
    // When the first call resolves a route's version through a new store on the same client
    expect(await routeVersionsOf(kube).resource('HTTPRoute')).to.include({ version: 'v1' });
    // Then it needed no further request
    expect(asked).to.have.length(1);
  });

  it('reads and writes routes through the discovered versions', async () => {
    api.apply([{ apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'db', namespace: 'default' }, spec: { rules: [] } }]);
    const store = new KubeRouteStore(new KubeClient({ kubeConfig: api.kubeConfig() }));
    const route = await store.get({ kind: 'TCPRoute', namespace: 'default', name: 'db' });
    expect(route.apiVersion).to.equal('gateway.networking.k8s.io/v1alpha2');
  });

  it('names the CRD to install when the cluster does not serve a kind (Standard-channel cluster: no TCPRoute)', async () => {
    // A cluster with only the Standard channel at v1.0: HTTPRoute in v1 and v1beta1.
    const docs: Record<string, unknown> = {
      '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'gateway.networking.k8s.io', versions: [{ groupVersion: 'gateway.networking.k8s.io/v1beta1', version: 'v1beta1' }, { groupVersion: 'gateway.networking.k8s.io/v1', version: 'v1' }] }] },
      '/apis/gateway.networking.k8s.io/v1': { kind: 'APIResourceList', groupVersion: 'gateway.networking.k8s.io/v1', resources: [{ name: 'httproutes', kind: 'HTTPRoute', namespaced: true, singularName: 'httproute', verbs: ['get'] }] },
      '/apis/gateway.networking.k8s.io/v1beta1': { kind: 'APIResourceList', groupVersion: 'gateway.networking.k8s.io/v1beta1', resources: [{ name: 'httproutes', kind: 'HTTPRoute', namespaced: true, singularName: 'httproute', verbs: ['get'] }] },
    };
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const doc = docs[req.url ?? ''];
      res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(doc ?? { kind: 'Status', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const versions = new RouteVersions(new KubeClient({ kubeConfig: kubeConfigForServer(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }));
      expect((await versions.resource('HTTPRoute')).version).to.equal('v1');
      // v1 is asked first: a first call on a current cluster costs one discovery request
      expect(asked).to.deep.equal(['/apis/gateway.networking.k8s.io/v1']);
      let message = '';
      await versions.resource('TCPRoute').catch((e: Error) => (message = e.message));
      expect(message).to.equal(
        'the cluster does not serve TCPRoute (gateway.networking.k8s.io versions served: v1, v1beta1); install the Gateway API CRD tcproutes.gateway.networking.k8s.io (Experimental channel)',
      );
      // A kind v1 does not serve goes through full discovery, once, without asking v1 again
      expect(asked.slice(1)).to.deep.equal(['/apis', '/apis/gateway.networking.k8s.io/v1beta1']);
    } finally {
      server.close();
    }
  });
});
