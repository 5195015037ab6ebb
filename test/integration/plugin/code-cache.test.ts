import { expect } from 'chai';
import { PLUGIN_NODE_FLAGS } from '../../../scripts/bundle.mjs';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, describeRun, httpRoute, pluginBundle, requireHost, runHost, seededClusterEach, STABLE, type HostRun } from './support.js';

// The bundle carries a V8 code cache recorded from a first reconcile (scripts/code-cache/):
// started as the launcher starts it, the plugin compiles almost nothing. The startup log says
// what became of the cache; a cache V8 refuses costs time, never correctness.

describe('plugin bundle: its recorded V8 code cache', function () {
  this.timeout(120_000);
  before(async () => {
    requireHost();
    await pluginBundle();
  });
  const cluster = seededClusterEach();

  const reconcile = async (nodeFlags: readonly string[]): Promise<HostRun> =>
    runHost({ rollout: cluster.rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 20 }] }, ['--kubeconfig', cluster.kubeconfig, '--log-level', 'info'], {
      command: [process.execPath, ...nodeFlags, await pluginBundle()],
      logLevel: 'info',
    });
  const startLine = (run: HostRun) => run.stderr.split('\n').find((l) => l.includes('rollouts-companion plugin starting')) ?? '';
  const weights = () => ruleWeights(httpRoute(cluster.api, 'canary-route'));

  it('Given the launcher\'s node flags, When the controller starts the plugin, Then V8 accepts the cache and the reconcile succeeds', async () => {
    const run = await reconcile(PLUGIN_NODE_FLAGS);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(startLine(run), run.stderr).to.include('codeCache=accepted');
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });

  it('Given other V8 flags than it was recorded with, Then the log says the cache was rejected and the reconcile still succeeds', async () => {
    const run = await reconcile([...PLUGIN_NODE_FLAGS, '--stack-size=900']);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(startLine(run), run.stderr).to.include('codeCache=rejected');
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });
});
