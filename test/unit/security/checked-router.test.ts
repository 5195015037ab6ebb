import { expect } from 'chai';
import { PLUGIN_TYPE, Verified, type CallContext, type TrafficRouterApi } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { checkedRouter } from '../../../src/security/checked-router.js';

// The security decorators hand the router the checked Rollout and everything else unchanged:
// above all the caller's CallContext, so cancellation and deadlines still reach the API requests.

const sent: Rollout = { metadata: { name: 'r', namespace: 'default', uid: 'from-request' } };
const stored: Rollout = { metadata: { name: 'r', namespace: 'default', uid: 'from-cluster' } };

function recorder() {
  const calls: { method: string; args: unknown[] }[] = [];
  const record = (method: string) => async (...args: unknown[]) => {
    calls.push({ method, args });
    return method === 'verifyWeight' ? { verified: Verified.Verified, error: '' } : method === 'type' ? PLUGIN_TYPE : { error: '' };
  };
  const inner = Object.fromEntries(
    ['initPlugin', 'updateHash', 'setWeight', 'setHeaderRoute', 'setMirrorRoute', 'verifyWeight', 'removeManagedRoutes', 'type'].map((m) => [m, record(m)]),
  ) as unknown as TrafficRouterApi;
  return { inner, calls };
}

describe('checkedRouter', () => {
  it('passes the stored Rollout, every argument and the CallContext through', async () => {
    const { inner, calls } = recorder();
    const ctx: CallContext = { signal: new AbortController().signal, deadline: Date.now() + 1000 };
    const seen: (CallContext | undefined)[] = [];
    const router = checkedRouter(inner, async (_r, _ds, c) => {
      seen.push(c);
      return stored;
    });
    const ds = [{ serviceName: 'exp', weight: 5 }];
    await router.initPlugin(sent, ctx);
    await router.updateHash(sent, 'c', 's', ds, ctx);
    await router.setWeight(sent, 10, ds, ctx);
    await router.setHeaderRoute(sent, { name: 'h' }, ctx);
    await router.setMirrorRoute(sent, { name: 'm' }, ctx);
    await router.verifyWeight(sent, 10, ds, ctx);
    await router.removeManagedRoutes(sent, ctx);
    await router.type(ctx);
    expect(calls.map((c) => c.args)).to.deep.equal([
      [stored, ctx],
      [stored, 'c', 's', ds, ctx],
      [stored, 10, ds, ctx],
      [stored, { name: 'h' }, ctx],
      [stored, { name: 'm' }, ctx],
      [stored, 10, ds, ctx],
      [stored, ctx],
      [ctx],
    ]);
    expect(seen).to.have.length(7);
    expect(seen.every((c) => c === ctx)).to.equal(true);
  });

  it('answers a failed check as the call\'s error and never calls the router', async () => {
    const { inner, calls } = recorder();
    const router = checkedRouter(inner, async () => {
      throw new Error('Rollout default/r not found');
    });
    expect(await router.setWeight(sent, 10, [])).to.deep.equal({ error: 'Rollout default/r not found' });
    expect(await router.verifyWeight(sent, 10, [])).to.deep.equal({ verified: Verified.NotVerified, error: 'Rollout default/r not found' });
    expect(calls).to.deep.equal([]);
  });
});
