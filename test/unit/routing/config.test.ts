import { expect } from 'chai';
import { parseRouterConfig } from '../../../src/routing/config.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { CANARY, PLUGIN, rollout, STABLE } from './fixtures.js';

// The plugin entry under trafficRouting.plugins: argoproj-labs/gatewayAPI keys plus pinnedRoutes.

const parse = (plugin: unknown, managed?: string[]) => parseRouterConfig(rollout(plugin, managed, 'x'), PLUGIN);
const failure = (plugin: unknown): string => {
  try {
    parse(plugin);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
};
const prefix = `invalid plugin config "${PLUGIN}" of rollout default/x: `;

describe('routing: parseRouterConfig', () => {
  it('reads the argoproj-labs/gatewayAPI keys with their defaults', () => {
    const cfg = parse({ httpRoute: 'web', grpcRoutes: [{ name: 'api', useHeaderRoutes: false }], tcpRoute: 'db', tlsRoutes: [{ name: 'sni', useHeaderRoutes: true }] }, ['h']);
    expect(cfg).to.deep.equal({
      pluginName: PLUGIN,
      rollout: 'default/x',
      rolloutNamespace: 'default',
      namespace: 'default',
      services: { stable: STABLE, canary: CANARY, namespace: 'default' },
      routes: [
        { ref: { kind: 'HTTPRoute', namespace: 'default', name: 'web' }, useHeaderRoutes: true },
        { ref: { kind: 'TCPRoute', namespace: 'default', name: 'db' }, useHeaderRoutes: false },
        { ref: { kind: 'GRPCRoute', namespace: 'default', name: 'api' }, useHeaderRoutes: false },
        // TLS rules have no matches: header routes cannot apply.
        { ref: { kind: 'TLSRoute', namespace: 'default', name: 'sni' }, useHeaderRoutes: false },
      ],
      selectors: [],
      pinned: { stable: [], canary: [] },
      inProgressLabel: { key: 'rollouts.argoproj.io/gatewayapi-canary', value: 'in-progress' },
      managedRouteNames: ['h'],
      totalWeight: 100,
      gwConfigMap: 'argo-gatewayapi-configmap',
      requireAcceptedStatus: false,
    });
  });

  it('reads namespace, selectors, label settings, pinned routes and the compatibility keys', () => {
    const cfg = parse({
      namespace: 'edge',
      httpRouteSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
      disableInProgressLabel: true,
      inProgressLabelKey: 'k',
      configMap: 'legacy',
      skipManagedRoutesOnSetWeight: true,
      pinnedRoutes: { stable: ['old', { name: 'old-grpc', kind: 'GRPCRoute' }], canary: [{ name: 'new' }] },
    });
    expect(cfg.namespace).to.equal('edge');
    expect(cfg.selectors).to.deep.equal([
      { kind: 'HTTPRoute', namespace: 'edge', selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] } },
    ]);
    expect(cfg.inProgressLabel).to.equal(undefined);
    expect(cfg.pinned).to.deep.equal({
      stable: [
        { kind: 'HTTPRoute', namespace: 'edge', name: 'old' },
        { kind: 'GRPCRoute', namespace: 'edge', name: 'old-grpc' },
      ],
      canary: [{ kind: 'HTTPRoute', namespace: 'edge', name: 'new' }],
    });
  });

  it('names the field at fault', () => {
    expect(failure({ httpRoutes: [{ name: 'a' }, { name: '' }] })).to.equal(`${prefix}httpRoutes[1].name must be a non-empty string`);
    expect(failure({ httpRoutes: { name: 'a' } })).to.equal(`${prefix}httpRoutes must be a list (got object)`);
    expect(failure({ httpRoute: 'a', disableInProgressLabel: 'yes' })).to.equal(`${prefix}disableInProgressLabel must be true or false`);
    expect(failure({ httpRoute: 'a', httpRoutes: [{ name: 'a' }] })).to.equal(`${prefix}httpRoutes[0]: HTTPRoute "a" is listed more than once`);
    expect(failure({ httpRouteSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } })).to.equal(
      `${prefix}httpRouteSelector.matchExpressions[0].values must be non-empty for operator In`,
    );
    expect(failure({ httpRoute: 'a', pinnedRoutes: { stable: [{ name: 'b', kind: 'Ingress' }] } })).to.equal(
      `${prefix}pinnedRoutes.stable[0].kind must be one of HTTPRoute, GRPCRoute, TCPRoute, TLSRoute`,
    );
    expect(failure('httpRoute: a')).to.equal(`${prefix}the entry must be an object (got string)`);
  });

  it('rejects unknown keys, listing the accepted ones', () => {
    expect(failure({ httpRoutes: [{ name: 'a', useHeaderRoute: true }] })).to.equal(
      `${prefix}httpRoutes[0]: unknown key "useHeaderRoute"; accepted keys: name, ruleName, useHeaderRoutes`,
    );
    expect(failure({ httpRoute: 'a', pinnedRoute: {} })).to.equal(
      `${prefix}unknown key "pinnedRoute"; accepted keys: activeRolloutsAnnotationKey, configMap, disableInProgressLabel, grpcRoute, ` +
        'grpcRouteRuleName, grpcRouteSelector, grpcRoutes, httpRoute, httpRouteRuleName, httpRouteSelector, httpRoutes, ' +
        'inProgressLabelKey, inProgressLabelValue, namespace, pinnedRoutes, requireAcceptedStatus, skipManagedRoutesOnSetWeight, tcpRoute, ' +
        'tcpRouteRuleName, tcpRouteSelector, tcpRoutes, tlsRoute, tlsRouteRuleName, tlsRouteSelector, tlsRoutes',
    );
  });

  it('requires at least one route', () => {
    expect(failure({ namespace: 'a' })).to.equal(
      `${prefix}no route configured; set at least one of httpRoute, grpcRoute, tcpRoute, tlsRoute, httpRoutes, grpcRoutes, ` +
        'tcpRoutes, tlsRoutes, httpRouteSelector, grpcRouteSelector, tcpRouteSelector, tlsRouteSelector',
    );
  });

  it('rejects a route that is both pinned and managed, or pinned twice', () => {
    expect(failure({ httpRoute: 'a', pinnedRoutes: { stable: ['a'] } })).to.equal(
      `${prefix}pinnedRoutes.stable[0]: HTTPRoute "a" is also a managed route; a route is either pinned or managed`,
    );
    expect(failure({ httpRoute: 'a', pinnedRoutes: { stable: ['b'], canary: ['b'] } })).to.equal(
      `${prefix}pinnedRoutes.canary[0]: HTTPRoute "b" is already pinned`,
    );
  });

  it('names the plugin and the entries present when its entry is missing', () => {
    const ro = rollout({ httpRoute: 'a' }, [], 'x');
    expect(() => parseRouterConfig(ro, 'argoproj-labs/gatewayAPI')).to.throw(
      'rollout default/x has no entry "argoproj-labs/gatewayAPI" under spec.strategy.canary.trafficRouting.plugins (present: "rollouts-companion/gatewayAPI")',
    );
  });

  it('requires the canary strategy’s stable and canary Services', () => {
    const ro: Rollout = rollout({ httpRoute: 'a' }, [], 'x');
    delete ro.spec!.strategy!.canary!.stableService;
    expect(() => parseRouterConfig(ro, PLUGIN)).to.throw(
      'rollout default/x: spec.strategy.canary.stableService must be a non-empty string (traffic routing splits between the stable and canary Services)',
    );
    expect(() => parseRouterConfig({ metadata: { name: 'x', namespace: 'default' }, spec: { strategy: {} } }, PLUGIN)).to.throw(
      'rollout default/x has no spec.strategy.canary; Gateway API traffic routing needs a canary strategy',
    );
  });

  it('takes the total weight from trafficRouting.maxTrafficWeight', () => {
    const ro = rollout({ httpRoute: 'a' });
    ro.spec!.strategy!.canary!.trafficRouting!.maxTrafficWeight = 1000;
    expect(parseRouterConfig(ro, PLUGIN).totalWeight).to.equal(1000);
  });
});
