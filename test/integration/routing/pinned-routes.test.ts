import { expect } from 'chai';
import { GatewayApiChannel, startApiServer, type ApiServer, type GatewayApiCrds } from '../../../src/kube/apiserver/index.js';
import { Verified } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { seedPinnedRoutes } from '../../support/seed.js';
import { routeReader, walkPinnedRoutes, STABLE, CANARY } from '../../scenarios/pinned-routes.js';
import { ruleWeights } from '../../support/routes.js';

// Run on a server that keeps every field and on one with Standard-channel v1.3 CRDs, which prune rules[].name.
const SERVERS: { label: string; gatewayApi?: GatewayApiCrds }[] = [
  { label: '' },
  { label: ' (Gateway API v1.3 Standard CRDs: rules[].name pruned)', gatewayApi: { version: 'v1.3.0', channel: GatewayApiChannel.Standard } },
];

for (const { label, gatewayApi } of SERVERS) describe(`companion over gRPC: the seeds' pinned-routes scenario${label}`, () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  let rollout: Rollout;
  let readRoute: ReturnType<typeof routeReader>;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true, ...(gatewayApi && { gatewayApi }) });
    rollout = await seedPinnedRoutes(api);
    companion = await startCompanion(api.kubeConfig());
    readRoute = routeReader(api.kubeConfig(), 'default');
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  it('moves canary-route 0→10→50→100→0 with header and mirror routes, never touching the pinned routes', async () => {
    await walkPinnedRoutes(companion.client, rollout, readRoute);
  });

  it(gatewayApi ? 'drops rules[].name on write, as the older CRDs do' : 'keeps rules[].name on write', async () => {
    const route = await readRoute('canary-route');
    api.update({ ...route, spec: { ...route.spec, rules: route.spec.rules!.map((r) => ({ ...r, name: 'mine' })) } } as never);
    expect((await readRoute('canary-route')).spec.rules!.map((r) => r.name)).to.deep.equal([gatewayApi ? undefined : 'mine']);
  });

  it('verifies weights only once the gateway accepted the current generation', async () => {
    // Given the canary at 10%
    expect((await companion.client.setWeight(rollout, 10, [])).error).to.equal('');
    // Then VerifyWeight(10) eventually reports Verified (the simulated gateway accepts it)
    let result = await companion.client.verifyWeight(rollout, 10, []);
    for (let i = 0; i < 50 && result.verified !== Verified.Verified; i++) {
      await new Promise((r) => setTimeout(r, 20));
      result = await companion.client.verifyWeight(rollout, 10, []);
    }
    expect(result).to.include({ verified: Verified.Verified, error: '' });
    // And VerifyWeight(20) does not: the route says 10
    const wrong = await companion.client.verifyWeight(rollout, 20, []);
    expect(wrong.verified).to.equal(Verified.NotVerified);
    expect(wrong.error).to.equal('');
  });

  it('re-reads and retries when another writer changes the route mid-update', async () => {
    // Given another writer bumps canary-route between our read and our write
    api.faults.conflictOnNextUpdate('httproutes', 'canary-route');
    // When the controller sets 30%
    expect((await companion.client.setWeight(rollout, 30, [])).error).to.equal('');
    // Then the route carries 70/30 and the conflict was retried
    expect(ruleWeights(await readRoute('canary-route'))).to.deep.equal([{ [STABLE]: 70, [CANARY]: 30 }]);
    expect(companion.conflicts).to.deep.equal(['HTTPRoute']);
  });

  it('reports a missing managed route by name and writes nothing', async () => {
    api.delete('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route');
    const result = await companion.client.setWeight(rollout, 10, []);
    expect(result.error).to.match(/HTTPRoute default\/canary-route not found/);
    expect(companion.writes).to.deep.equal([]);
  });

  it('reports an API server that is down as an error, not a hang', async () => {
    api.faults.down();
    const result = await companion.client.setWeight(rollout, 10, []);
    expect(result.error).to.not.equal('');
    api.faults.up();
  });

  it('rejects a request whose rollout has no name, saying so', async () => {
    const broken = { metadata: {} } as unknown as Rollout;
    const result = await companion.client.setWeight(broken, 10, []);
    expect(result.error).to.match(/metadata\.name is missing/);
  });
});
