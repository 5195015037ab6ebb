import { expect } from 'chai';
import { Verified } from '../../../src/routing/api.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { CANARY, IN_PROGRESS, MANAGED_RULES, prefix, rollout, seedConfig, seedStore, STABLE, svc } from './fixtures.js';

// Given the seeds' three HTTPRoutes (canary-route split by weight, always-old-version pinned to
// stable, always-new-version pinned to canary), when a canary goes 0→10→50→100→0 with a header
// route and a mirror route on the way, then canary-route carries exactly the expected rules
// at each step and the pinned routes are never written.

describe('routing: the seeds’ pinned-routes walkthrough', () => {
  const store = seedStore();
  const warnings: string[] = [];
  const router = new TrafficRouter({ store, onWarning: (m) => warnings.push(m) });
  const ro = rollout(seedConfig());
  const canaryRoute = (): RouteObject => store.route('HTTPRoute', 'canary-route');
  const ok = async (p: Promise<{ error: string }>) => expect((await p).error).to.equal('');
  const weighted = (stable: number, canary: number) => ({
    matches: [prefix('/')],
    backendRefs: [svc(STABLE, { weight: stable }), svc(CANARY, { weight: canary })],
  });
  const headerRule = {
    name: 'canary-header',
    matches: [{ ...prefix('/'), headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }],
    backendRefs: [svc(CANARY)],
  };
  const mirrorRule = (stable: number, canary: number) => ({
    name: 'canary-mirror',
    matches: [prefix('/api')],
    backendRefs: [svc(STABLE, { weight: stable }), svc(CANARY, { weight: canary })],
    filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 80 }, percent: 50 } }],
  });

  it('validates the config, routes, Services and pins (UpdateHash, InitPlugin)', async () => {
    await ok(router.initPlugin(ro));
    await ok(router.updateHash(ro, 'new', 'old', []));
    expect(store.writes).to.deep.equal([]);
  });

  it('setWeight 0 splits 100/0 without the in-progress label', async () => {
    await ok(router.setWeight(ro, 0, []));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(100, 0)]);
    expect(canaryRoute().metadata.labels?.[IN_PROGRESS]).to.equal(undefined);
  });

  it('setWeight 10 splits 90/10 and labels the route in progress', async () => {
    await ok(router.setWeight(ro, 10, []));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(90, 10)]);
    expect(canaryRoute().metadata.labels).to.deep.equal({ [IN_PROGRESS]: 'in-progress' });
  });

  it('setHeaderRoute adds a canary-only rule for X-Canary: yes', async () => {
    const step = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };
    await ok(router.setHeaderRoute(ro, step));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(90, 10), headerRule]);
    expect(JSON.parse(canaryRoute().metadata.annotations![MANAGED_RULES]!)).to.deep.equal({ 'canary-header': ['canary-header'] });
    const writes = store.writes.length;
    await ok(router.setHeaderRoute(ro, step)); // every reconcile repeats it
    expect(store.writes.length).to.equal(writes);
  });

  it('setWeight 50 moves the weighted rule only', async () => {
    await ok(router.setWeight(ro, 50, []));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(50, 50), headerRule]);
  });

  it('setMirrorRoute mirrors half of /api to the canary, keeping the split', async () => {
    await ok(router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] }));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(50, 50), headerRule, mirrorRule(50, 50)]);
  });

  it('setWeight 100 moves the weighted rule and the mirror rule that copies it', async () => {
    await ok(router.setWeight(ro, 100, []));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(0, 100), headerRule, mirrorRule(0, 100)]);
  });

  it('verifies once the Gateway accepted the current generation', async () => {
    expect((await router.verifyWeight(ro, 100, [])).verified).to.equal(Verified.NotVerified);
    store.accept('HTTPRoute', 'canary-route');
    expect(await router.verifyWeight(ro, 100, [])).to.deep.equal({ verified: Verified.Verified, error: '' });
  });

  it('setHeaderRoute without match removes only the header rule', async () => {
    await ok(router.setHeaderRoute(ro, { name: 'canary-header' }));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(0, 100), mirrorRule(0, 100)]);
    expect(JSON.parse(canaryRoute().metadata.annotations![MANAGED_RULES]!)).to.deep.equal({ 'canary-mirror': ['canary-mirror'] });
  });

  it('RemoveManagedRoutes then setWeight 0 return the route to its own rule, unlabelled', async () => {
    await ok(router.removeManagedRoutes(ro));
    expect(canaryRoute().spec.rules).to.deep.equal([weighted(0, 100)]);
    expect(canaryRoute().metadata.annotations?.[MANAGED_RULES]).to.equal(undefined);
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

  it('never wrote the pinned routes, and warned about nothing', () => {
    expect(store.writesTo('HTTPRoute', 'always-old-version')).to.equal(0);
    expect(store.writesTo('HTTPRoute', 'always-new-version')).to.equal(0);
    expect(new Set(store.writes)).to.deep.equal(new Set(['HTTPRoute default/canary-route']));
    expect(warnings).to.deep.equal([]);
  });
});
