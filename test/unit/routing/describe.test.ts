import { expect } from 'chai';
import { parseRouterConfig } from '../../../src/routing/config.js';
import { describeRoutes } from '../../../src/routing/describe.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import { CANARY, PLUGIN, rollout, seedConfig, seedStore, STABLE } from './fixtures.js';

// The rows behind `rollouts-companion status`.

describe('routing: describe', () => {
  it('lists every backend of the managed and pinned routes with weight, share and role', async () => {
    const store = seedStore();
    const router = new TrafficRouter({ store });
    const ro = rollout(seedConfig());
    await router.setWeight(ro, 10, []);
    await router.setHeaderRoute(ro, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] });
    const names = ['canary-route', 'always-old-version', 'always-new-version'];
    const rows = describeRoutes(names.map((n) => store.route('HTTPRoute', n)), parseRouterConfig(ro, PLUGIN));
    const base = { kind: 'HTTPRoute', ruleIndex: 0, ruleName: undefined, managedRoute: undefined };
    const split = { ...base, ruleIndex: 1 };
    expect(rows).to.deep.equal([
      {
        ...base,
        route: 'default/canary-route',
        hosts: ['app.example.com'],
        ruleIndex: 0,
        ruleName: 'canary-header',
        managedRoute: 'canary-header',
        backend: CANARY,
        weight: 1,
        percent: 100,
        pinned: undefined,
        managed: true,
        inProgress: true,
      },
      { ...split, route: 'default/canary-route', hosts: ['app.example.com'], backend: STABLE, weight: 90, percent: 90, pinned: undefined, managed: true, inProgress: true },
      { ...split, route: 'default/canary-route', hosts: ['app.example.com'], backend: CANARY, weight: 10, percent: 10, pinned: undefined, managed: true, inProgress: true },
      { ...base, route: 'default/always-old-version', hosts: ['old.example.com'], backend: STABLE, weight: 1, percent: 100, pinned: 'stable', managed: false, inProgress: false },
      { ...base, route: 'default/always-new-version', hosts: ['new.example.com'], backend: CANARY, weight: 1, percent: 100, pinned: 'canary', managed: false, inProgress: false },
    ]);
  });
});
