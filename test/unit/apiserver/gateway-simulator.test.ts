import { expect } from 'chai';

import { SIMULATED_GATEWAY_CONTROLLER, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { eventually, GATEWAY, httpRoute, NS, routeParams, startHarness, type Harness } from './helpers.js';

interface Parent {
  controllerName: string;
  parentRef: unknown;
  conditions: { type: string; status: string; reason: string; observedGeneration: number }[];
}
const parentsOf = (o: KubeObject) => ((o['status'] as { parents?: Parent[] } | undefined)?.parents ?? []);

describe('in-process API server: simulated gateway', () => {
  let h: Harness | undefined;
  afterEach(() => h?.server.close());

  const route = async () => (await h!.custom.getNamespacedCustomObject(routeParams('r'))) as KubeObject;

  it('accepts a route for its current generation after each spec change', async () => {
    h = await startHarness({ simulateGateway: { delayMs: 5 } });
    await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') });
    await eventually(async () => {
      const [parent] = parentsOf(await route());
      expect(parent?.controllerName).to.equal(SIMULATED_GATEWAY_CONTROLLER);
      expect(parent?.parentRef).to.deep.equal({ name: 'gateway' });
      expect(parent?.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).to.deep.equal([
        ['Accepted', 'True', 'Accepted', 1],
        ['ResolvedRefs', 'True', 'ResolvedRefs', 1],
      ]);
    });

    const current = await route();
    await h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: { ...current, spec: httpRoute('r', undefined, 50)['spec'] } });
    await eventually(async () => {
      const r = await route();
      expect(r.metadata.generation).to.equal(2);
      expect(parentsOf(r)[0]?.conditions.every((c) => c.observedGeneration === 2)).to.equal(true);
    });
  });

  it('keeps parent statuses written by other controllers', async () => {
    h = await startHarness({ simulateGateway: true });
    h.server.create({ ...httpRoute('r'), status: { parents: [{ controllerName: 'example.com/other', parentRef: { name: 'x' }, conditions: [] }] } });
    await eventually(async () => {
      expect(parentsOf(await route()).map((p) => p.controllerName)).to.deep.equal(['example.com/other', SIMULATED_GATEWAY_CONTROLLER]);
    });
  });

  it('writes no status when turned off', async () => {
    h = await startHarness();
    await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') });
    // A later write's event arrives after anything the simulator would have scheduled at delay 0.
    await new Promise((r) => setTimeout(r, 20));
    expect((await route())['status']).to.equal(undefined);
    expect(h.server.list(`${GATEWAY}/v1`, 'HTTPRoute', NS)).to.have.length(1);
  });

  it('rejects a route whose hostnames no listener of its Gateway takes (NoMatchingListenerHostname)', async () => {
    h = await startHarness({ simulateGateway: true });
    h.server.create({ apiVersion: `${GATEWAY}/v1`, kind: 'Gateway', metadata: { name: 'gateway', namespace: NS }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', protocol: 'HTTP', port: 80, hostname: '*.example.com' }] } });
    const withHost = (name: string, host: string) => ({ ...httpRoute(name), spec: { ...(httpRoute(name)['spec'] as object), hostnames: [host] } });
    h.server.create(withHost('r', 'app.example.org'));
    h.server.create(withHost('ok', 'app.example.com'));
    await eventually(async () => {
      const accepted = (name: string) => h!.server.get(`${GATEWAY}/v1`, 'HTTPRoute', NS, name);
      const cond = (name: string) => parentsOf(accepted(name)!)[0]?.conditions[0];
      expect([cond('r')?.status, cond('r')?.reason]).to.deep.equal(['False', 'NoMatchingListenerHostname']);
      expect(cond('ok')?.status).to.equal('True');
    });
  });
});
