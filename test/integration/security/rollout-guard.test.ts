import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { startApiServer, type ApiServer, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { toHeaderRoute, toTarget } from '../../../src/grpc/contract.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleNames, ruleWeights } from '../../support/routes.js';
import { CANARY, httpRoute, STABLE } from '../plugin/support.js';
import { controllerToken, rawCall, rawClient, seedWithStoredRollout, setWeight, startSecureCompanion, type RawClient, type SecureCompanion } from './support.js';

// Never trust the request's Rollout: the companion re-reads the Rollout a call names and acts on
// the stored spec. A forged Rollout gets a clear error and nothing is written.

const PLUGIN = 'rollouts-companion/gatewayAPI';
const clone = <T>(v: T): T => structuredClone(v);
const plugins = (r: Rollout) => r.spec!.strategy!.canary!.trafficRouting!.plugins as Record<string, Record<string, unknown>>;

describe('companion gRPC: requests act on the stored Rollout only', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let rollout: Rollout;
  let companion: SecureCompanion;
  let client: RawClient;
  let token: string;
  const unweighted = [{ [STABLE]: undefined, [CANARY]: undefined }];

  const call = async (method: string, request: object) => {
    const reply = await rawCall(client, method, request, token);
    expect(reply.code, reply.details).to.equal(grpc.status.OK);
    return reply.reply?.error ?? '';
  };
  const canaryRoute = () => httpRoute(api, 'canary-route');

  /** A copy of canary-route (and the two Services) in `namespace`, annotated as given. */
  const victimRoute = (namespace: string, annotations: Record<string, string> = {}) => {
    // Backends are the Rollout's Services (team-a), referenced across namespaces.
    for (const name of [STABLE, CANARY]) {
      const svc = api.get('v1', 'Service', 'default', name)!;
      if (!api.get('v1', 'Service', 'team-a', name)) api.create({ ...svc, metadata: { name, namespace: 'team-a' } });
    }
    const src = canaryRoute();
    const rules = (src.spec.rules ?? []).map((r) => ({ ...r, backendRefs: (r.backendRefs as object[]).map((b) => ({ ...b, namespace: 'team-a' })) }));
    api.create({ apiVersion: src.apiVersion, kind: src.kind, metadata: { name: 'shop', namespace, annotations }, spec: { ...src.spec, rules } } as KubeObject);
  };
  const victim = (namespace: string) => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, 'shop') as unknown as Parameters<typeof ruleWeights>[0];

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedWithStoredRollout(api);
    companion = await startSecureCompanion(api);
    client = rawClient(companion.address);
    token = controllerToken(api);
  });
  afterEach(async () => {
    client.close();
    await companion.stop();
    await api.close();
  });

  it('refuses a Rollout the cluster does not have', async () => {
    const forged = clone(rollout);
    forged.metadata.name = 'ghost';
    expect(await call('SetWeight', setWeight(forged, 100))).to.equal(
      'Rollout default/ghost not found: the companion acts only on Rollouts stored in the cluster',
    );
    expect(ruleWeights(canaryRoute())).to.deep.equal(unweighted);
  });

  it('refuses a Rollout whose uid is not the stored one', async () => {
    const forged = clone(rollout);
    forged.metadata.uid = '00000000-0000-0000-0000-000000000000';
    expect(await call('SetWeight', setWeight(forged, 100))).to.match(
      /^Rollout default\/static-rollouts-demo: the request's uid 00000000-0000-0000-0000-000000000000 is not the stored Rollout's/,
    );
    expect(ruleWeights(canaryRoute())).to.deep.equal(unweighted);
  });

  it('refuses a Rollout that does not use this plugin, and a plugin name it does not serve', async () => {
    const other = clone(rollout);
    other.metadata = { name: 'uses-another-plugin', namespace: 'default' };
    plugins(other)['argoproj-labs/gatewayAPI'] = plugins(other)[PLUGIN]!;
    delete plugins(other)[PLUGIN];
    const stored = api.create(other as unknown as KubeObject) as unknown as Rollout;
    expect(await call('SetWeight', setWeight(stored, 100))).to.equal(
      `Rollout default/uses-another-plugin does not use plugin "${PLUGIN}": spec.strategy.canary.trafficRouting.plugins has no "${PLUGIN}" entry`,
    );
    expect(await call('SetWeight', { ...setWeight(stored, 100), target: toTarget(stored, 'argoproj-labs/gatewayAPI') })).to.match(
      /plugin name "argoproj-labs\/gatewayAPI" is not served by this companion/,
    );
    expect(ruleWeights(canaryRoute())).to.deep.equal(unweighted);
  });

  it('ignores routes a forged Rollout names in another namespace: the stored config decides', async () => {
    victimRoute('shop');
    const forged = clone(rollout);
    plugins(forged)[PLUGIN] = { httpRoute: 'shop', namespace: 'shop' };
    expect(await call('SetWeight', setWeight(forged, 100))).to.equal('');
    expect(ruleWeights(victim('shop'))).to.deep.equal(unweighted);
    expect(ruleWeights(canaryRoute())[0]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });
  });

  it('refuses a managed route the stored Rollout does not declare', async () => {
    const forged = clone(rollout);
    forged.spec!.strategy!.canary!.trafficRouting!.managedRoutes!.push({ name: 'sneaky' });
    const headerRoute = toHeaderRoute({ name: 'sneaky', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] });
    expect(await call('SetHeaderRoute', { target: toTarget(forged, ''), headerRoute })).to.match(
      /managed route "sneaky" is not declared in spec.strategy.canary.trafficRouting.managedRoutes of rollout default\/static-rollouts-demo \(declared: .*canary-header/,
    );
    expect(ruleNames(canaryRoute())).to.deep.equal([undefined]);
  });

  it('refuses additionalDestinations that are not Services of an Experiment this Rollout owns', async () => {
    api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'attacker', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject);
    expect(await call('SetWeight', setWeight(rollout, 10, [{ serviceName: 'attacker', weight: 50 }]))).to.equal(
      'Rollout default/static-rollouts-demo: additionalDestinations service "attacker" is not a Service of an Experiment owned by this Rollout',
    );
    // The same words for a Service that does not exist: nothing learnt about the namespace.
    expect(await call('SetWeight', setWeight(rollout, 10, [{ serviceName: 'nowhere', weight: 50 }]))).to.match(/service "nowhere" is not a Service of an Experiment/);
    expect(ruleWeights(canaryRoute())).to.deep.equal(unweighted);
  });

  it('accepts the Service of an Experiment the Rollout owns, as an experiment step creates it', async () => {
    const experiment = api.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Experiment',
      metadata: {
        name: 'static-rollouts-demo-6c9f-2-1',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: rollout.metadata.name, uid: rollout.metadata.uid, controller: true }],
      },
      spec: {},
    } as KubeObject);
    api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'exp-canary',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Experiment', name: experiment.metadata.name, uid: experiment.metadata.uid, controller: true }],
      },
      spec: { ports: [{ port: 80 }] },
    } as KubeObject);
    expect(await call('SetWeight', setWeight(rollout, 10, [{ serviceName: 'exp-canary', weight: 5 }]))).to.equal('');
    expect(ruleWeights(canaryRoute())[0]).to.deep.include({ [CANARY]: 10, 'exp-canary': 5 });
  });

  describe('a stored Rollout that names routes of another namespace', () => {
    let crossNs: Rollout;
    const consent = /^Rollout team-a\/checkout may not use routes in namespace shop: every route it names there must be annotated rollouts-companion.argoproj.io\/allow-rollouts-from: "team-a"/;
    beforeEach(() => {
      const r = clone(rollout);
      r.metadata = { name: 'checkout', namespace: 'team-a' };
      plugins(r)[PLUGIN] = { httpRoute: 'shop', namespace: 'shop' };
      crossNs = api.create(r as unknown as KubeObject) as unknown as Rollout;
    });

    it('is refused when the route has not consented, in the same words as when it does not exist', async () => {
      expect(await call('SetWeight', setWeight(crossNs, 100))).to.match(consent);
      victimRoute('shop', { 'rollouts-companion.argoproj.io/allow-rollouts-from': 'team-b' });
      expect(await call('SetWeight', setWeight(crossNs, 100))).to.match(consent);
      expect(ruleWeights(victim('shop'))).to.deep.equal(unweighted);
    });

    it('is served when the route names the Rollout\'s namespace', async () => {
      victimRoute('shop', { 'rollouts-companion.argoproj.io/allow-rollouts-from': 'team-b, team-a' });
      expect(await call('SetWeight', setWeight(crossNs, 30))).to.equal('');
      expect(ruleWeights(victim('shop'))[0]).to.deep.equal({ [STABLE]: 70, [CANARY]: 30 });
    });
  });
});
