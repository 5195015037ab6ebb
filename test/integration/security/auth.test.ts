import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { API_SERVER_AUDIENCE, serviceAccountSubject, startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { createRemoteRouter } from '../../../src/grpc/client.js';
import { createRemoteStep } from '../../../src/grpc/step-client.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, httpRoute, STABLE } from '../plugin/support.js';
import {
  AUDIENCE,
  controllerToken,
  rawCall,
  rawClient,
  seedWithStoredRollout,
  setWeight,
  startSecureCompanion,
  tokenFile,
  type RawClient,
  type SecureCompanion,
} from './support.js';

// Only the Argo Rollouts controller may move traffic: every TrafficRouter call carries its
// ServiceAccount token, which the API server vouches for (TokenReview) for our audience.

describe('companion gRPC: callers are authenticated and authorised', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let rollout: Rollout;
  let companion: SecureCompanion;
  let client: RawClient;
  const unweighted = [{ [STABLE]: undefined, [CANARY]: undefined }];

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedWithStoredRollout(api);
    companion = await startSecureCompanion(api);
    client = rawClient(companion.address);
  });
  afterEach(async () => {
    client.close();
    await companion.stop();
    await api.close();
  });

  const refusedCases: [string, () => string | undefined, grpc.status, RegExp][] = [
    ['no token', () => undefined, grpc.status.UNAUTHENTICATED, /no ServiceAccount token/],
    ['a token nobody issued', () => 'eyforged', grpc.status.UNAUTHENTICATED, /token rejected by TokenReview: .*invalid bearer token/],
    ['a token for another audience (the API server\'s)', () => controllerToken(api, { audiences: [API_SERVER_AUDIENCE] }), grpc.status.UNAUTHENTICATED, /audiences/],
    ['an expired token', () => controllerToken(api, { expiresAt: Date.now() - 1000 }), grpc.status.UNAUTHENTICATED, /expired/],
    [
      'a valid token of a ServiceAccount that is not allowed',
      () => api.tokens.issue(serviceAccountSubject('team-a', 'default', { audiences: [AUDIENCE] })),
      grpc.status.PERMISSION_DENIED,
      /system:serviceaccount:team-a:default may not call the companion \(allowed: system:serviceaccount:argo-rollouts:argo-rollouts/,
    ],
  ];
  for (const [what, token, code, message] of refusedCases) {
    it(`refuses SetWeight with ${what} and writes nothing`, async () => {
      const reply = await rawCall(client, 'SetWeight', setWeight(rollout, 100), token());
      expect(grpc.status[reply.code]).to.equal(grpc.status[code]);
      expect(reply.details).to.match(message);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal(unweighted);
      expect(companion.writes).to.deep.equal([]);
    });
  }

  it('never echoes the token in what the caller or the logs see', async () => {
    const token = controllerToken(api, { expiresAt: Date.now() - 1000 });
    const reply = await rawCall(client, 'SetWeight', setWeight(rollout, 10), token);
    expect(reply.details).to.not.include(token);
    expect(JSON.stringify(companion.refusals)).to.not.include(token);
  });

  it('serves the controller\'s token, asking the API server once for many calls', async () => {
    const token = controllerToken(api);
    for (const w of [10, 20, 30]) {
      const reply = await rawCall(client, 'SetWeight', setWeight(rollout, w), token);
      expect(reply.code, reply.details).to.equal(grpc.status.OK);
      expect(reply.reply?.error).to.equal('');
    }
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 70, [CANARY]: 30 });
    expect(api.tokens.reviews).to.equal(1);
  });

  it('leaves health open to probes without a token', async () => {
    const { protoPath } = await import('grpc-health-check');
    const protoLoader = await import('@grpc/proto-loader');
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    const health = new pkg.grpc.health.v1.Health(companion.address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
    const status = await new Promise<string>((resolve, reject) =>
      health.Check!({ service: '' }, (err: Error | null, r: { status: string | number }) => (err ? reject(err) : resolve(String(r.status)))),
    );
    health.close();
    expect(status).to.be.oneOf(['SERVING', '1']);
  });

  it('the remote router (plugin remote mode, `call`) sends the token from --token-file', async () => {
    const remote = createRemoteRouter({ address: companion.address, tokenFile: tokenFile(controllerToken(api)) });
    const ok = await remote.setWeight(rollout, 40, []);
    const anonymous = createRemoteRouter({ address: companion.address });
    const refused = await anonymous.setWeight(rollout, 90, []);
    remote.close();
    anonymous.close();
    expect(ok.error).to.equal('');
    expect(refused.error).to.match(/rejected SetWeight: no ServiceAccount token/);
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 60, [CANARY]: 40 });
  });

  it('guards the StepPlugin service the same way (the lockstep gate in remote mode)', async () => {
    const anonymous = createRemoteStep({ address: companion.address });
    const controller = createRemoteStep({ address: companion.address, tokenFile: tokenFile(controllerToken(api)) });
    const refused = await anonymous.initPlugin();
    const served = await controller.initPlugin();
    anonymous.close();
    controller.close();
    expect(refused.error).to.match(/rejected Step.InitPlugin: no ServiceAccount token/);
    expect(served.error).to.equal('');
  });
});
