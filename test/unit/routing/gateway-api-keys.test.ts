import { expect } from 'chai';
import { parseRouterConfig } from '../../../src/routing/config.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import { CANARY, PLUGIN, prefix, rollout, route, seedStore, STABLE, svc } from './fixtures.js';

// A Rollout written for argoproj-labs/gatewayAPI works unchanged: every key any of its
// releases documents is accepted; the ones the companion does not act on are logged once,
// saying why; a misspelt key is still an error naming it.

const twoRules = () =>
  route('HTTPRoute', 'web', {
    rules: [
      { matches: [prefix('/')], backendRefs: [svc('discovery', { weight: 5 }), svc(STABLE, { weight: 95 }), svc(CANARY, { weight: 0 })] },
      { name: 'argo', matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })] },
    ],
  });

const setup = (plugin: unknown) => {
  const store = seedStore([twoRules()]);
  const warnings: string[] = [];
  const router = new TrafficRouter({ store, onWarning: (message) => warnings.push(message) });
  return { store, router, warnings, ro: rollout(plugin) };
};

describe('routing: argoproj-labs/gatewayAPI configuration keys', () => {
  it('accepts every documented key of every release in one entry', () => {
    const cfg = parseRouterConfig(
      rollout({
        httpRoute: 'web',
        httpRouteRuleName: 'argo',
        grpcRoute: 'api',
        grpcRouteRuleName: 'argo',
        tcpRoute: 'db',
        tcpRouteRuleName: 'argo',
        tlsRoute: 'sni',
        tlsRouteRuleName: 'argo',
        httpRoutes: [{ name: 'web2', useHeaderRoutes: true, ruleName: 'argo' }],
        grpcRoutes: [{ name: 'api2', useHeaderRoutes: false }],
        tcpRoutes: [{ name: 'db2', useHeaderRoutes: false }],
        tlsRoutes: [{ name: 'sni2', useHeaderRoutes: false }],
        httpRouteSelector: { matchLabels: { a: 'b' } },
        grpcRouteSelector: { matchLabels: { a: 'b' } },
        tcpRouteSelector: { matchLabels: { a: 'b' } },
        tlsRouteSelector: { matchLabels: { a: 'b' } },
        namespace: 'default',
        configMap: 'argo-gatewayapi-configmap',
        disableInProgressLabel: false,
        inProgressLabelKey: 'rollouts.argoproj.io/gatewayapi-canary',
        inProgressLabelValue: 'in-progress',
        skipManagedRoutesOnSetWeight: true,
        activeRolloutsAnnotationKey: 'rollouts.argoproj.io/gatewayapi-active-rollouts',
      }),
      PLUGIN,
    );
    expect(cfg.routes.map((r) => [r.ref.name, r.ruleName])).to.deep.equal([
      ['web', 'argo'],
      ['api', 'argo'],
      ['db', 'argo'],
      ['sni', 'argo'],
      ['web2', 'argo'],
      ['api2', undefined],
      ['db2', undefined],
      ['sni2', undefined],
    ]);
    expect(cfg.ignoredKeys!.map((k) => k.key)).to.deep.equal(['skipManagedRoutesOnSetWeight', 'activeRolloutsAnnotationKey']);
    expect(cfg.gwConfigMap).to.equal('argo-gatewayapi-configmap');
  });

  it('logs each ignored key once, saying why, and still works', async () => {
    const { router, warnings, ro } = setup({ httpRoute: 'web', skipManagedRoutesOnSetWeight: false, activeRolloutsAnnotationKey: 'k' });
    for (const w of [10, 20, 0]) expect((await router.setWeight(ro, w, [])).error).to.equal('');
    expect(warnings).to.deep.equal([
      'plugin config key "skipManagedRoutesOnSetWeight" (from argoproj-labs/gatewayAPI) is accepted but has no effect: SetWeight never changes header or mirror rules: they always send all their traffic to the canary (what gatewayAPI does with true)',
      'plugin config key "activeRolloutsAnnotationKey" (from argoproj-labs/gatewayAPI) is accepted but has no effect: the companion keeps no list of the rollouts sharing a route; the in-progress label follows each SetWeight of the rollout being reconciled',
    ]);
  });

  it('still refuses a misspelt key or an ill-typed ignored key, naming it', () => {
    const fails = (plugin: unknown) => () => parseRouterConfig(rollout(plugin, [], 'x'), PLUGIN);
    const prefixMsg = `invalid plugin config "${PLUGIN}" of rollout default/x: `;
    expect(fails({ httpRoute: 'web', httpRouteRulename: 'argo' })).to.throw(`${prefixMsg}unknown key "httpRouteRulename"`);
    expect(fails({ httpRoute: 'web', skipManagedRoutesOnSetWeight: 'yes' })).to.throw(`${prefixMsg}skipManagedRoutesOnSetWeight must be true or false`);
    expect(fails({ httpRoute: 'web', activeRolloutsAnnotationKey: '' })).to.throw(`${prefixMsg}activeRolloutsAnnotationKey must be a non-empty string`);
    expect(fails({ grpcRoute: 'api', httpRouteRuleName: 'argo' })).to.throw(`${prefixMsg}httpRouteRuleName names a rule of the route in httpRoute, which is not set`);
    expect(fails({ httpRoutes: [{ name: 'web', ruleName: '' }] })).to.throw(`${prefixMsg}httpRoutes[0].ruleName must be a non-empty string`);
  });

  it('ruleName: SetWeight and VerifyWeight drive only the named rule, leaving the live rule to its owner', async () => {
    const { store, router, ro } = setup({ httpRoute: 'web', httpRouteRuleName: 'argo' });
    expect((await router.setWeight(ro, 30, [])).error).to.equal('');
    expect(store.route('HTTPRoute', 'web').spec.rules).to.deep.equal([
      { matches: [prefix('/')], backendRefs: [svc('discovery', { weight: 5 }), svc(STABLE, { weight: 95 }), svc(CANARY, { weight: 0 })] },
      { name: 'argo', matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 70 }), svc(CANARY, { weight: 30 })] },
    ]);
    store.accept('HTTPRoute', 'web');
    expect((await router.verifyWeight(ro, 30, [])).verified).to.equal(1);
  });

  it('ruleName: a name no splitting rule carries is an error naming the route and the rule, and nothing is written', async () => {
    const { store, router, ro } = setup({ httpRoutes: [{ name: 'web', ruleName: 'argo2' }] });
    expect((await router.setWeight(ro, 30, [])).error).to.equal(
      `HTTPRoute default/web: no rule named "argo2" (the configured ruleName) references both the stable Service "${STABLE}" and the canary Service "${CANARY}"`,
    );
    expect(store.writes).to.deep.equal([]);
  });
});
