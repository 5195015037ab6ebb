import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../src/kube/apiserver/index.js';
import { writeKubeconfigFile } from '../../src/kube/kubeconfig.js';
import type { Rollout } from '../../src/routing/rollout.js';
import { ruleWeights } from '../support/routes.js';
import { CANARY, STABLE, describeRun, httpRoute, runHost, seedAndRollout, topLevel, type HostRun } from '../integration/plugin/support.js';
import { FaultAction, startFaultProxy, type FaultProxy } from './proxy.js';

// The plugin in in-process mode under the real go-plugin host, with the fault-injecting proxy
// between it and the API server. The host gives up on a call after its `timeoutMs` as the
// controller's callers would; net/rpc cannot cancel, so the plugin's own per-call deadline
// ends the abandoned work. Every case checks the route as stored and that the next call succeeds.

const PUT_ROUTE = { method: 'PUT', path: /\/httproutes\/canary-route$/ };

describe('faults: the plugin under the go-plugin host', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let proxy: FaultProxy;
  let rollout: Rollout;
  let kubeconfig: string;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedAndRollout(api);
    proxy = await startFaultProxy(api.url);
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'faults-')), 'kubeconfig');
    await writeKubeconfigFile(kubeconfig, proxy.url);
  });
  afterEach(async () => {
    await proxy.close();
    await api.close();
  });

  const play = (calls: Record<string, unknown>[], args: string[] = []): Promise<HostRun> =>
    runHost({ rollout, calls }, ['--kubeconfig', kubeconfig, ...args], { logLevel: 'info' });
  const weights = () => ruleWeights(httpRoute(api, 'canary-route'));

  it('a truncated PUT response does not wedge the route: later calls answer and SetWeight(0) lands', async () => {
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Truncate });
    const run = await play(
      [
        { method: 'InitPlugin' },
        { method: 'SetWeight', desiredWeight: 20 },
        { method: 'SetWeight', desiredWeight: 0, timeoutMs: 5000 },
        { method: 'VerifyWeight', desiredWeight: 0 },
        { method: 'SetWeight', desiredWeight: 10, timeoutMs: 5000 },
      ],
      ['--kube-request-timeout', '1000'],
    );
    const lines = topLevel(run);
    expect(lines.map((l) => l.ok), describeRun(run)).to.deep.equal([true, true, true, true, true]);
    expect(weights()).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
  });

  it('SetWeight(20) abandoned by the host with its PUT delayed, then SetWeight(0) acknowledged: the route ends at 0', async () => {
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Delay, delayMs: 2000 });
    const run = await play([
      { method: 'InitPlugin' },
      { method: 'SetWeight', desiredWeight: 20, timeoutMs: 500 },
      { method: 'SetWeight', desiredWeight: 0, timeoutMs: 8000 },
      { method: 'Sleep', ms: 2500 },
      { method: 'SetWeight', desiredWeight: 0, timeoutMs: 5000 },
    ]);
    const lines = topLevel(run);
    expect(lines[1]!.ok, describeRun(run)).to.equal(false);
    expect(lines[2]!.ok, describeRun(run)).to.equal(true);
    expect(lines[4]!.ok, describeRun(run)).to.equal(true);
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
  });

  it('5xx answers are retried; 300 abandoned VerifyWeights do not hold up a real SetWeight', async () => {
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Status, status: 503, times: 2 });
    const run = await play([
      { method: 'InitPlugin' },
      { method: 'SetWeight', desiredWeight: 30, timeoutMs: 5000 },
      { method: 'Parallel', count: 300, call: { method: 'VerifyWeight', desiredWeight: 30, timeoutMs: 100 } },
      { method: 'SetWeight', desiredWeight: 0, timeoutMs: 3000 },
    ]);
    const lines = topLevel(run);
    expect(lines[1]!.ok, describeRun(run)).to.equal(true);
    expect(lines[3]!.ok, describeRun(run)).to.equal(true);
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
  });

  it('a persistent 500 is one line naming the route, the verb and the server\'s reason; the next call succeeds', async () => {
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Status, status: 500, times: 1000 });
    const failing = await play([{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 30, timeoutMs: 15000 }]);
    expect(topLevel(failing)[1]!.rpcError, describeRun(failing)).to.equal(
      'updating HTTPRoute default/canary-route: API server error 500 InternalError: injected 500',
    );
    proxy.clear();
    const next = await play([{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 30, timeoutMs: 5000 }]);
    expect(topLevel(next)[1]!.ok, describeRun(next)).to.equal(true);
    expect(weights()).to.deep.equal([{ [STABLE]: 70, [CANARY]: 30 }]);
  });
});
