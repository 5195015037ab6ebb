import { expect } from 'chai';
import { describeRun, pluginBundle, requireHost, runHost } from './support.js';

// The symptom in issue 8: an argo-rollouts-config entry written for argoproj-labs/gatewayAPI
// (its documented args) made this plugin exit at start, failing every Rollout that used it.

describe('plugin under the go-plugin host with argoproj-labs/gatewayAPI’s documented args', function () {
  this.timeout(120_000);

  before(async () => {
    requireHost();
    await pluginBundle();
  });

  it('starts, answers, and notes once that the log format is ignored', async () => {
    const run = await runHost({ rollout: { metadata: { name: 'x', namespace: 'default' } }, calls: [{ method: 'InitPlugin' }, { method: 'Type' }] }, [
      '-kubeClientQPS=40',
      '-kubeClientBurst=80',
      '-logformat=json',
      '-kubeconfig=/nonexistent/kubeconfig',
    ]);
    expect(run.code, describeRun(run)).to.equal(0);
    const calls = run.lines.filter((l) => l.i >= 0);
    expect(calls.map((l) => [l.method, l.ok]), describeRun(run)).to.deep.equal([
      ['InitPlugin', true],
      ['Type', true],
    ]);
    expect(run.stderr.match(/log format ignored/g), describeRun(run)).to.have.lengthOf(1);
  });
});
