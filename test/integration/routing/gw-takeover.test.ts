import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { backend, CANARY_SVC, rolloutWith, route, service, STABLE_SVC } from '../../support/builders.js';
import { ruleNames } from '../../support/routes.js';
import { traffic } from '../../support/traffic.js';

// Switching a Rollout from argoproj-labs/gatewayAPI (GW) to the companion mid-canary, with GW's
// header route active: the companion takes GW's rules over (by GW ≥ 0.13's names, or by GW ≤ 0.12's
// ConfigMap), SetHeaderRoute works on them and RemoveManagedRoutes removes them.

const ROLES = { stable: STABLE_SVC, canary: CANARY_SVC };
const split = { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ ...backend(STABLE_SVC), weight: 70 }, { ...backend(CANARY_SVC), weight: 30 }] };
const gwHeaderRule = (name?: string) => ({
  ...(name !== undefined && { name }),
  matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }],
  backendRefs: [{ group: '', kind: 'Service', name: CANARY_SVC, port: 80 }],
});

describe('companion over gRPC: taking over a route argoproj-labs/gatewayAPI manages mid-canary', () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  const get = () => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'web') as unknown as RouteObject;
  const rollout = rolloutWith({ httpRoute: 'web' }, { managedRoutes: ['canary-header'] });
  const header = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    api.apply([service(STABLE_SVC), service(CANARY_SVC)]);
    companion = await startCompanion(api.kubeConfig());
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  for (const gw of ['0.13 (rule named canary-header)', '0.12 (ConfigMap argo-gatewayapi-configmap)']) {
    it(`GW ${gw}: header route active; SetHeaderRoute, SetWeight, RemoveManagedRoutes finish cleanly`, async () => {
      // Given GW left the route at 30 % with its header rule appended after the split
      const byName = gw.startsWith('0.13');
      api.apply([route('HTTPRoute', 'web', [split, gwHeaderRule(byName ? 'canary-header' : undefined)])]);
      if (!byName) {
        api.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argo-gatewayapi-configmap', namespace: 'default' }, data: { httpManagedRoutes: JSON.stringify({ 'canary-header': { web: 1 } }) } } as never]);
      }
      expect(traffic([get()], ROLES)('GET h/ X-Canary:yes')).to.equal('canary 100 %');
      // When the companion repeats the step GW was at: no "rule name taken", no duplicate rule
      expect((await companion.client.setHeaderRoute(rollout, header)).error).to.equal('');
      expect(ruleNames(get())).to.deep.equal(['canary-header', undefined]);
      expect(get().spec.rules).to.have.length(2);
      expect((await companion.client.setWeight(rollout, 60, [])).error).to.equal('');
      const see = traffic([get()], ROLES);
      expect(see('GET h/ X-Canary:yes')).to.equal('canary 100 %');
      expect(see('GET h/')).to.equal('stable 40 %, canary 60 %');
      // When the rollout completes
      expect((await companion.client.removeManagedRoutes(rollout)).error).to.equal('');
      expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
      // Then GW's header rule is gone: header users are back on stable
      expect(ruleNames(get())).to.deep.equal([undefined]);
      expect(traffic([get()], ROLES)('GET h/ X-Canary:yes')).to.equal('stable 100 %');
    });
  }
});
