import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, describeRun, httpRoute, pluginBundle, requireHost, runHost, STABLE, topLevel } from '../plugin/support.js';
import { controllerToken, seedWithStoredRollout, startSecureCompanion, tokenFile, type SecureCompanion } from './support.js';

// The plugin in remote mode, started by the real go-plugin host as the controller starts it,
// authenticates to the companion with the controller's projected token.

describe('plugin under the go-plugin host: remote mode authenticates', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let rollout: Rollout;
  let companion: SecureCompanion;

  before(async () => {
    requireHost();
    await pluginBundle();
  });
  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedWithStoredRollout(api);
    companion = await startSecureCompanion(api);
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  it('moves canary-route with --companion-token-file holding the controller\'s token', async () => {
    const run = await runHost(
      { rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 30 }, { method: 'VerifyWeight', desiredWeight: 30 }] },
      ['--companion', companion.address, '--companion-token-file', tokenFile(controllerToken(api)), '--deadline', '5000'],
    );
    expect(run.code, describeRun(run)).to.equal(0);
    expect(topLevel(run).filter((l) => !l.ok), describeRun(run)).to.deep.equal([]);
    expect(ruleWeights(httpRoute(api, 'canary-route'))[0]).to.deep.equal({ [STABLE]: 70, [CANARY]: 30 });
  });

  it('gets a clear RpcError and writes nothing without a token', async () => {
    const run = await runHost({ rollout, calls: [{ method: 'SetWeight', desiredWeight: 30 }] }, ['--companion', companion.address, '--deadline', '5000']);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(topLevel(run)[0]!.rpcError, describeRun(run)).to.match(/companion 127\.0\.0\.1:\d+ rejected SetWeight: no ServiceAccount token/);
    expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: undefined, [CANARY]: undefined }]);
  });
});
