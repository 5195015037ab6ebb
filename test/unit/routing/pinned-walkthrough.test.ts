import { expect } from 'chai';
import { Verified } from '../../../src/routing/api.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { traffic, trafficTable } from '../../support/traffic.js';
import { CANARY, IN_PROGRESS, prefix, recordedNames, ROLES, rollout, seedConfig, seedStore, STABLE, svc } from './fixtures.js';

// Given the seeds' three HTTPRoutes (canary-route split by weight, always-old-version pinned to
// stable, always-new-version pinned to canary), when a canary goes 0→10→50→100→0 with a header
// route and a mirror route on the way, then canary-route carries exactly the expected rules at
// each step, requests go where the step says, and the pinned routes are never written. Run
// twice: on an API server that keeps `rules[].name`, and on one that prunes it (Standard-channel
// CRDs before Gateway API v1.4), where the managed rules are found by their recorded content.

const REQUESTS = ['GET app.example.com/', 'GET app.example.com/api/x', 'GET app.example.com/ X-Canary:yes', 'GET old.example.com/', 'GET new.example.com/'];

for (const pruned of [false, true]) {
  describe(`routing: the seeds’ pinned-routes walkthrough${pruned ? ' (CRD prunes rules[].name)' : ''}`, () => {
    const store = seedStore(undefined, { pruneRuleNames: pruned });
    const warnings: string[] = [];
    const router = new TrafficRouter({ store, onWarning: (m) => warnings.push(m) });
    const ro = rollout(seedConfig());
    const canaryRoute = (): RouteObject => store.route('HTTPRoute', 'canary-route');
    const routes = () => ['canary-route', 'always-old-version', 'always-new-version'].map((n) => store.route('HTTPRoute', n));
    const see = (request: string) => traffic(routes(), ROLES)(request);
    const ok = async (p: Promise<{ error: string }>) => expect((await p).error).to.equal('');
    const named = (name: string, rule: Record<string, unknown>) => (pruned ? rule : { name, ...rule });
    const weighted = (stable: number, canary: number) => ({
      matches: [prefix('/')],
      backendRefs: [svc(STABLE, { weight: stable }), svc(CANARY, { weight: canary })],
    });
    const headerRule = named('canary-header', {
      matches: [{ ...prefix('/'), headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }],
      backendRefs: [svc(CANARY)],
    });
    const mirrorRule = (stable: number, canary: number) =>
      named('canary-mirror', {
        matches: [prefix('/api')],
        backendRefs: [svc(STABLE, { weight: stable }), svc(CANARY, { weight: canary })],
        filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 80 }, percent: 50 } }],
      });
    let beforeManaged: Record<string, string>;

    it('validates the config, routes, Services and pins (UpdateHash, InitPlugin)', async () => {
      await ok(router.initPlugin(ro));
      await ok(router.updateHash(ro, 'new', 'old', []));
      expect(store.writes).to.deep.equal([]);
    });

    it('setWeight 0 splits 100/0 without the in-progress label', async () => {
      await ok(router.setWeight(ro, 0, []));
      expect(canaryRoute().spec.rules).to.deep.equal([weighted(100, 0)]);
      expect(canaryRoute().metadata.labels?.[IN_PROGRESS]).to.equal(undefined);
      expect(see('GET app.example.com/')).to.equal('stable 100 %');
    });

    it('setWeight 10 splits 90/10 and labels the route in progress', async () => {
      await ok(router.setWeight(ro, 10, []));
      expect(canaryRoute().spec.rules).to.deep.equal([weighted(90, 10)]);
      expect(canaryRoute().metadata.labels).to.deep.equal({ [IN_PROGRESS]: 'in-progress' });
      expect(see('GET app.example.com/')).to.equal('stable 90 %, canary 10 %');
      expect(see('GET old.example.com/')).to.equal('stable 100 %');
      expect(see('GET new.example.com/')).to.equal('canary 100 %');
      beforeManaged = trafficTable(routes(), ROLES, REQUESTS);
    });

    it('setHeaderRoute adds a canary-only rule for X-Canary: yes, before the rule it copies', async () => {
      const step = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };
      await ok(router.setHeaderRoute(ro, step));
      expect(canaryRoute().spec.rules).to.deep.equal([headerRule, weighted(90, 10)]);
      expect(recordedNames(canaryRoute())).to.deep.equal({ 'canary-header': ['canary-header'] });
      expect(see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
      expect(see('GET app.example.com/ X-Canary:no')).to.equal('stable 90 %, canary 10 %');
      const writes = store.writes.length;
      await ok(router.setHeaderRoute(ro, step)); // every reconcile repeats it
      expect(store.writes.length).to.equal(writes);
      expect(canaryRoute().spec.rules).to.have.length(2);
    });

    it('setWeight 50 moves the weighted rule only', async () => {
      await ok(router.setWeight(ro, 50, []));
      expect(canaryRoute().spec.rules).to.deep.equal([headerRule, weighted(50, 50)]);
      expect(see('GET app.example.com/')).to.equal('stable 50 %, canary 50 %');
      expect(see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    });

    it('setMirrorRoute mirrors half of /api to the canary, keeping the split', async () => {
      const step = { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] };
      await ok(router.setMirrorRoute(ro, step));
      expect(canaryRoute().spec.rules).to.deep.equal([headerRule, mirrorRule(50, 50), weighted(50, 50)]);
      expect(see('GET app.example.com/api/x')).to.equal('stable 50 %, canary 50 %; mirrored to canary at 50 %');
      expect(see('GET app.example.com/')).to.equal('stable 50 %, canary 50 %');
      const writes = store.writes.length;
      await ok(router.setMirrorRoute(ro, step));
      expect(store.writes.length).to.equal(writes);
    });

    it('setWeight 100 moves the weighted rule and the mirror rule that copies it', async () => {
      await ok(router.setWeight(ro, 100, []));
      expect(canaryRoute().spec.rules).to.deep.equal([headerRule, mirrorRule(0, 100), weighted(0, 100)]);
      expect(see('GET app.example.com/api/x')).to.equal('canary 100 %; mirrored to canary at 50 %');
    });

    it('verifies once the Gateway accepted the current generation', async () => {
      store.setStatus('HTTPRoute', 'canary-route', [
        { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'True', observedGeneration: 1 }] },
      ]);
      expect((await router.verifyWeight(ro, 100, [])).verified).to.equal(Verified.NotVerified);
      store.accept('HTTPRoute', 'canary-route');
      expect(await router.verifyWeight(ro, 100, [])).to.deep.equal({ verified: Verified.Verified, error: '' });
    });

    it('setHeaderRoute without match removes only the header rule', async () => {
      await ok(router.setHeaderRoute(ro, { name: 'canary-header' }));
      expect(canaryRoute().spec.rules).to.deep.equal([mirrorRule(0, 100), weighted(0, 100)]);
      expect(recordedNames(canaryRoute())).to.deep.equal({ 'canary-mirror': ['canary-mirror'] });
      expect(see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    });

    it('RemoveManagedRoutes then setWeight 0 return the route to its own rule, unlabelled, and the traffic to what it was', async () => {
      await ok(router.removeManagedRoutes(ro));
      expect(canaryRoute().spec.rules).to.deep.equal([weighted(0, 100)]);
      expect(recordedNames(canaryRoute())).to.equal(undefined);
      await ok(router.setWeight(ro, 10, []));
      expect(trafficTable(routes(), ROLES, REQUESTS)).to.deep.equal(beforeManaged);
      await ok(router.setWeight(ro, 0, []));
      expect(canaryRoute().spec.rules).to.deep.equal([weighted(100, 0)]);
      expect(canaryRoute().metadata.labels?.[IN_PROGRESS]).to.equal(undefined);
    });

    it('every later reconcile (Remove, UpdateHash(h,h), SetWeight 0, VerifyWeight 0) writes nothing', async () => {
      const writes = store.writes.length;
      for (let i = 0; i < 3; i++) {
        await ok(router.removeManagedRoutes(ro));
        await ok(router.updateHash(ro, 'h', 'h', []));
        await ok(router.setWeight(ro, 0, []));
        store.accept('HTTPRoute', 'canary-route');
        expect((await router.verifyWeight(ro, 0, [])).verified).to.equal(Verified.Verified);
      }
      expect(store.writes.length).to.equal(writes);
    });

    it('never wrote the pinned routes, and warned only of the one unverified answer', () => {
      expect(store.writesTo('HTTPRoute', 'always-old-version')).to.equal(0);
      expect(store.writesTo('HTTPRoute', 'always-new-version')).to.equal(0);
      expect(new Set(store.writes)).to.deep.equal(new Set(['HTTPRoute default/canary-route']));
      expect(warnings).to.deep.equal(['VerifyWeight not verified: HTTPRoute default/canary-route: parent default/eg accepted generation 1, route is at generation 7']);
    });
  });
}
