import { expect } from 'chai';
import { PLUGIN_NODE_FLAGS } from '../../../scripts/bundle.mjs';
import { KNOWN_TYPES_UNREADABLE, WARM_UP_FAILED } from '../../../src/cli/recorded-reconcile.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, describeRun, httpRoute, pluginBundle, requireHost, runHost, seededClusterEach, STABLE, type HostRun } from './support.js';

// The bundle carries what scripts/code-cache/ recorded from a first reconcile: a V8 code cache
// (started as the launcher starts it, the plugin compiles almost nothing), the controller's
// gob type definitions, and the calls, which the plugin serves itself once to warm up. The
// startup log says what became of the cache; a cache V8 refuses costs time, never correctness.

describe('plugin bundle: its recorded first reconcile', function () {
  this.timeout(120_000);
  before(async () => {
    requireHost();
    await pluginBundle();
  });
  const cluster = seededClusterEach();

  const reconcile = async (nodeFlags: readonly string[], logLevel = 'info'): Promise<HostRun> =>
    runHost({ rollout: cluster.rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 20 }] }, ['--kubeconfig', cluster.kubeconfig, '--log-level', logLevel], {
      command: [process.execPath, ...nodeFlags, await pluginBundle()],
      logLevel,
    });
  const startLine = (run: HostRun) => run.stderr.split('\n').find((l) => l.includes('rollouts-companion plugin starting')) ?? '';
  const weights = () => ruleWeights(httpRoute(cluster.api, 'canary-route'));

  it('Given the launcher\'s node flags, When the controller starts the plugin, Then V8 accepts the cache and the reconcile succeeds', async () => {
    const run = await reconcile(PLUGIN_NODE_FLAGS);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(startLine(run), run.stderr).to.include('codeCache=accepted');
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });

  it('Given a start, When the router is built and warmed, Then the log says the plugin is ready and how long its start took', async () => {
    const run = await reconcile(PLUGIN_NODE_FLAGS);
    expect(run.code, describeRun(run)).to.equal(0);
    const ready = run.stderr.split('\n').find((l) => l.includes('rollouts-companion plugin ready')) ?? '';
    expect(Number(/startupMs=(\d+)/.exec(ready)?.[1]), run.stderr).to.be.greaterThan(0);
    expect(run.stderr.indexOf(startLine(run))).to.be.lessThan(run.stderr.indexOf(ready));
  });

  it('Given other V8 flags than it was recorded with, Then the log says the cache was rejected and the reconcile still succeeds', async () => {
    const run = await reconcile([...PLUGIN_NODE_FLAGS, '--stack-size=900']);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(startLine(run), run.stderr).to.include('codeCache=rejected');
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });

  it('Given the bundle, When the controller starts the plugin, Then it takes the recorded type definitions and warms up without a warning', async () => {
    const run = await reconcile(PLUGIN_NODE_FLAGS, 'debug');
    expect(run.code, describeRun(run)).to.equal(0);
    const loaded = run.stderr.split('\n').find((l) => l.includes('recorded gob type definitions loaded')) ?? '';
    expect(Number(/knownGobTypes=(\d+)/.exec(loaded)?.[1]), run.stderr).to.be.greaterThan(200);
    expect(run.stderr).not.to.include(KNOWN_TYPES_UNREADABLE);
    expect(run.stderr).not.to.include(WARM_UP_FAILED);
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });
});
