import { expect } from 'chai';
import { Verified } from '../../../src/routing/api.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import { rollout, seedConfig, seedStore, STABLE, CANARY } from './fixtures.js';

// VerifyWeight: Verified only when the split is in place and every parent Gateway accepted
// the route's current generation; otherwise NotVerified with a reason (and no error).

describe('routing: verifyWeight', () => {
  const setup = async (config: Record<string, unknown> = {}) => {
    const store = seedStore();
    const warnings: { message: string; fields: Record<string, unknown> }[] = [];
    const router = new TrafficRouter({ store, onWarning: (message, fields) => warnings.push({ message, fields }) });
    const ro = rollout({ ...seedConfig(), ...config });
    expect((await router.setWeight(ro, 20, [])).error).to.equal('');
    return { store, router, ro, warnings };
  };
  const notVerified = (reason: string) => ({ verified: Verified.NotVerified, error: '', reason });

  it('is Verified when weights match and every parent accepted the current generation', async () => {
    const { store, router, ro } = await setup();
    store.accept('HTTPRoute', 'canary-route');
    expect(await router.verifyWeight(ro, 20, [])).to.deep.equal({ verified: Verified.Verified, error: '' });
  });

  it('names the rule whose weights differ', async () => {
    const { store, router, ro } = await setup();
    store.accept('HTTPRoute', 'canary-route');
    expect(await router.verifyWeight(ro, 30, [])).to.deep.equal(
      notVerified(`HTTPRoute default/canary-route: rules[0] gives the stable Service "${STABLE}" weight 80, want 70`),
    );
    expect(await router.verifyWeight(ro, 20, [{ serviceName: 'exp', weight: 5 }])).to.deep.equal(
      notVerified(`HTTPRoute default/canary-route: rules[0] gives the stable Service "${STABLE}" weight 80, want 75`),
    );
  });

  it('waits for the Gateway to observe the current generation', async () => {
    const { store, router, ro } = await setup();
    const generation = store.route('HTTPRoute', 'canary-route').metadata.generation!;
    store.setStatus('HTTPRoute', 'canary-route', [
      { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'True', observedGeneration: generation - 1 }] },
    ]);
    expect(await router.verifyWeight(ro, 20, [])).to.deep.equal(
      notVerified(`HTTPRoute default/canary-route: parent default/eg accepted generation ${generation - 1}, route is at generation ${generation}`),
    );
  });

  it('waits while a parent reports a backendRef it cannot resolve, whose share would get HTTP 500', async () => {
    const { store, router, ro } = await setup();
    const generation = store.route('HTTPRoute', 'canary-route').metadata.generation!;
    const accepted = { type: 'Accepted', status: 'True', observedGeneration: generation };
    store.setStatus('HTTPRoute', 'canary-route', [
      {
        parentRef: { name: 'eg' },
        conditions: [accepted, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: `service "${CANARY}" not found`, observedGeneration: generation }],
      },
    ]);
    expect(await router.verifyWeight(ro, 20, [])).to.deep.equal(
      notVerified(
        `HTTPRoute default/canary-route: parent default/eg has ResolvedRefs=False (BackendNotFound: service "${CANARY}" not found); requests sent to an unresolved backend get HTTP 500`,
      ),
    );
    // Once resolved, or reported by an implementation that sets no observedGeneration, it verifies.
    store.setStatus('HTTPRoute', 'canary-route', [
      { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }] },
    ]);
    expect(await router.verifyWeight(ro, 20, [])).to.deep.equal({ verified: Verified.Verified, error: '' });
  });

  it('judges a route with no parent status by its weights alone, warning once; requireAcceptedStatus waits for Accepted', async () => {
    const { router, ro, warnings } = await setup();
    for (let i = 0; i < 3; i++) expect(await router.verifyWeight(ro, 20, [])).to.deep.equal({ verified: Verified.Verified, error: '' });
    expect(warnings.map((w) => w.message)).to.deep.equal([
      'HTTPRoute default/canary-route: no parent Gateway reports status; verifying by weights alone (set requireAcceptedStatus: true to wait for Accepted)',
    ]);
    const strict = await setup({ requireAcceptedStatus: true });
    expect(await strict.router.verifyWeight(strict.ro, 20, [])).to.deep.equal(notVerified('HTTPRoute default/canary-route: no parent Gateway has reported status yet'));
  });

  it('logs every not-verified answer with the route, the parent and the reason', async () => {
    const { store, router, ro, warnings } = await setup();
    store.setStatus('HTTPRoute', 'canary-route', [
      { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NoMatchingParent', observedGeneration: 1 }] },
    ]);
    await router.verifyWeight(ro, 20, []);
    await router.verifyWeight(ro, 30, []);
    const reason1 = 'HTTPRoute default/canary-route: parent default/eg has Accepted=False (NoMatchingParent)';
    const reason2 = `HTTPRoute default/canary-route: rules[0] gives the stable Service "${STABLE}" weight 80, want 70`;
    expect(warnings).to.deep.equal([
      { message: `VerifyWeight not verified: ${reason1}`, fields: { rollout: 'default/demo', plugin: 'rollouts-companion/gatewayAPI', route: 'HTTPRoute default/canary-route', parent: 'default/eg', reason: reason1 } },
      { message: `VerifyWeight not verified: ${reason2}`, fields: { rollout: 'default/demo', plugin: 'rollouts-companion/gatewayAPI', route: 'HTTPRoute default/canary-route', reason: reason2 } },
    ]);
  });

  it('reports a parent that did not accept the route', async () => {
    const { store, router, ro } = await setup();
    const generation = store.route('HTTPRoute', 'canary-route').metadata.generation!;
    store.setStatus('HTTPRoute', 'canary-route', [
      { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'True', observedGeneration: generation }] },
      {
        parentRef: { name: 'internal', namespace: 'gw', sectionName: 'https' },
        conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', message: 'hostname mismatch', observedGeneration: generation }],
      },
    ]);
    expect(await router.verifyWeight(ro, 20, [])).to.deep.equal(
      notVerified('HTTPRoute default/canary-route: parent gw/internal#https has Accepted=False (NotAllowedByListeners: hostname mismatch)'),
    );
  });

  it('returns an error for a missing route or one that cannot be split', async () => {
    const store = seedStore();
    const router = new TrafficRouter({ store });
    expect(await router.verifyWeight(rollout({ httpRoute: 'nope' }), 0, [])).to.deep.equal({
      verified: Verified.NotVerified,
      error: 'HTTPRoute default/nope not found',
    });
    expect((await router.verifyWeight(rollout({ httpRoute: 'always-new-version' }), 0, [])).error).to.equal(
      `HTTPRoute default/always-new-version: no rule references both the stable Service "${STABLE}" and the canary Service "${CANARY}" in spec.rules[].backendRefs; missing: stable Service "${STABLE}"`,
    );
  });
});
