import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { serviceAccountSubject, startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { toTarget } from '../../../src/grpc/contract.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, httpRoute, STABLE } from '../plugin/support.js';
import {
  AUDIENCE,
  CONTROLLER_USER,
  controllerToken,
  rawCall,
  rawClient,
  seedWithStoredRollout,
  setWeight,
  startSecureCompanion,
  type RawClient,
  type SecureCompanion,
} from './support.js';

// One caller cannot crowd out another: a huge message is refused on its own, and a flood from
// one ServiceAccount is refused beyond its share while the controller's SetWeight goes through.

const FLOODER = 'system:serviceaccount:argo-rollouts:flooder';

describe('companion gRPC: per-caller limits', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let rollout: Rollout;
  let companion: SecureCompanion;
  let controller: RawClient;
  let flooder: RawClient;
  let controllerTok: string;
  let flooderTok: string;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedWithStoredRollout(api);
    companion = await startSecureCompanion(api, { allowed: [CONTROLLER_USER, FLOODER] });
    // Separate channels, as separate pods would have.
    controller = rawClient(companion.address);
    flooder = rawClient(companion.address);
    controllerTok = controllerToken(api);
    flooderTok = api.tokens.issue(serviceAccountSubject('argo-rollouts', 'flooder', { audiences: [AUDIENCE] }));
  });
  afterEach(async () => {
    controller.close();
    flooder.close();
    await companion.stop();
    await api.close();
  });

  it('refuses a 20 MB request (limit 16 MiB) and still serves the next caller', async () => {
    const huge = structuredClone(rollout);
    huge.metadata.annotations = { padding: 'x'.repeat(20 * 1024 * 1024) };
    const refused = await rawCall(flooder, 'SetWeight', { target: toTarget(huge, ''), desiredWeight: 100 }, flooderTok);
    expect(grpc.status[refused.code]).to.equal('RESOURCE_EXHAUSTED');
    expect(refused.details).to.match(/larger than max/);
    const served = await rawCall(controller, 'SetWeight', setWeight(rollout, 20), controllerTok);
    expect(served.code, served.details).to.equal(grpc.status.OK);
    expect(served.reply?.error).to.equal('');
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 80, [CANARY]: 20 });
  });

  it('serves the controller\'s SetWeight during a 1000-call flood from another caller', async () => {
    // Given 1000 calls from one ServiceAccount at once
    const flood = Array.from({ length: 1000 }, () => rawCall(flooder, 'VerifyWeight', setWeight(rollout, 50), flooderTok));
    // When the controller sets a weight in the middle of it
    const served = await rawCall(controller, 'SetWeight', setWeight(rollout, 20), controllerTok);
    const flooded = await Promise.all(flood);
    // Then the controller's call went through and the route shows it
    expect(served.code, served.details).to.equal(grpc.status.OK);
    expect(served.reply?.error).to.equal('');
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 80, [CANARY]: 20 });
    // And the flood was cut to its share, with a reason naming the caller
    const exhausted = flooded.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED);
    expect(exhausted.length).to.be.greaterThan(500);
    expect(exhausted[0]!.details).to.match(new RegExp(`^${FLOODER} already has 32 calls in progress|^too many calls from ${FLOODER}`));
    expect(flooded.filter((r) => r.code === grpc.status.OK).length).to.be.greaterThan(0);
  });

  it('bounds the TokenReviews a flood of made-up tokens costs, and still serves the controller', async () => {
    // Given 200 calls at once, each with a different made-up token
    const junk = await Promise.all(Array.from({ length: 200 }, (_, i) => rawCall(flooder, 'SetWeight', setWeight(rollout, 100), `eyjunk${i}`)));
    // Then each is refused, most without costing the API server a TokenReview
    expect(junk.every((r) => r.code === grpc.status.UNAUTHENTICATED || r.code === grpc.status.RESOURCE_EXHAUSTED)).to.equal(true);
    const exhausted = junk.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED);
    expect(exhausted.length).to.be.greaterThan(100);
    expect(exhausted[0]!.details).to.equal('too many new tokens from 127.0.0.1 waiting for a TokenReview: retry later');
    expect(api.tokens.reviews).to.be.lessThan(100);
    // And the controller's SetWeight right after is served
    const served = await rawCall(controller, 'SetWeight', setWeight(rollout, 20), controllerTok);
    expect(served.code, served.details).to.equal(grpc.status.OK);
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 80, [CANARY]: 20 });
  });
});
