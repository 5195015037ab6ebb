import { expect } from 'chai';
import { startApiServer } from '../../../src/kube/apiserver/index.js';

// The in-process API server as a cluster with given Gateway API CRDs: fields they do not know are dropped.

const rule = { name: 'r1', backendRefs: [{ name: 's', port: 80 }] };
const routeDoc = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { rules: [rule] } };

describe('apiserver: Gateway API CRD versions prune unknown fields', () => {
  for (const [version, channel, kept] of [
    ['v1.3.0', 'standard', false],
    ['v1.4.0', 'standard', true],
    ['v1.2.0', 'experimental', true],
    ['v1.1.0', 'experimental', false],
  ] as const) {
    it(`${channel} ${version} ${kept ? 'keeps' : 'drops'} rules[].name`, async () => {
      const api = await startApiServer({ gatewayApi: { version, channel } });
      try {
        api.create(routeDoc as never);
        const stored = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'r') as unknown as { spec: { rules: { name?: string }[] } };
        expect(stored.spec.rules[0]!.name).to.equal(kept ? 'r1' : undefined);
      } finally {
        await api.close();
      }
    });
  }

  for (const [version, channel, kept] of [
    ['v1.2.0', 'standard', false],
    ['v1.3.0', 'standard', true],
    ['v1.2.0', 'experimental', true],
    ['v1.1.0', 'experimental', false],
  ] as const) {
    it(`${channel} ${version} ${kept ? 'keeps' : 'drops'} requestMirror.percent and .fraction`, async () => {
      const api = await startApiServer({ gatewayApi: { version, channel } });
      try {
        const mirror = (extra: object) => ({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'c', port: 80 }, ...extra } });
        const mirrored = { backendRefs: [{ name: 's', port: 80, filters: [mirror({ fraction: { numerator: 1 } })] }], filters: [mirror({ percent: 20 })] };
        api.create({ ...routeDoc, spec: { rules: [mirrored] } } as never);
        type Filter = { requestMirror: Record<string, unknown> };
        const stored = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'r') as unknown as { spec: { rules: { filters: Filter[]; backendRefs: { filters: Filter[] }[] }[] } };
        const [r] = stored.spec.rules;
        expect(r!.filters[0]!.requestMirror['percent']).to.equal(kept ? 20 : undefined);
        expect(r!.backendRefs[0]!.filters[0]!.requestMirror['fraction']).to.deep.equal(kept ? { numerator: 1 } : undefined);
        expect(r!.filters[0]!.requestMirror['backendRef']).to.deep.equal({ name: 'c', port: 80 });
      } finally {
        await api.close();
      }
    });
  }

  it('rejects a version it cannot read', async () => {
    let message = '';
    await startApiServer({ gatewayApi: { version: 'latest', channel: 'standard' } }).catch((e: Error) => (message = e.message));
    expect(message).to.equal('Gateway API version "latest" must look like v1.N or v1.N.P');
  });
});
