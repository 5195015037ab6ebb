import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { callStep } from '../../../src/cli/call-step.js';
import { createRemoteStep } from '../../../src/grpc/step-client.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createLocalStep } from '../../../src/kube/local-step.js';
import { KubeClient } from '../../../src/kube/client.js';
import { gateMetricsObserver } from '../../../src/step/gate-metrics.js';
import { createCompanionServer, listen } from '../../../src/grpc/server.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { pluginBundle } from '../plugin/support.js';
import { ControllerPlay, HOSTS, PLUGIN, memberRollout, resultOf } from './controller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The gate over gRPC: the StepPlugin service of the companion, the plugin's remote mode
// forwarding the controller's step calls to it, and `call Run|Terminate|Abort` playing the
// controller against the companion (what the example's walk-through does in dev mode).

const members = ['frontend', 'backend'];
const config = { gate: 'release-42', members, timeout: '15m', align: false };

describe('lockstep gate over gRPC', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let companion: RunningCompanion;

  beforeEach(async () => {
    api = await startApiServer();
    companion = await startCompanion(api.kubeConfig());
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  it('the plugin in remote mode (--companion) forwards Run to the companion: two members meet', async function () {
    const host = HOSTS[0]!;
    host.require(this);
    await pluginBundle();
    const play = await ControllerPlay.start(api, host, ['--companion', companion.address, '--deadline', '5000']);
    play.create(memberRollout('frontend', config), memberRollout('backend', config));
    play.arrive('frontend');
    let round = await play.reconcile(['frontend']);
    expect(resultOf(round.by['frontend']).message).to.match(/waiting for default\/backend/);
    play.arrive('backend');
    round = await play.reconcile(['backend', 'frontend']);
    expect([resultOf(round.by['backend']).phase, resultOf(round.by['frontend']).phase]).to.deep.equal(['Successful', 'Successful']);
  });

  it('call Run --record plays the controller: the reply is stored where the other member reads it', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'call-step-')), 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    for (const name of members) api.create(memberRollout(name, config) as never);
    const atGate = (name: string) => {
      const r = structuredClone(api.get('argoproj.io/v1alpha1', 'Rollout', 'default', name)!) as unknown as { metadata: { generation: number }; status: Record<string, unknown> };
      r.status['currentStepIndex'] = 1;
      r.status['observedGeneration'] = String(r.metadata.generation);
      api.update(r as never);
    };
    const call = (method: 'Run' | 'Terminate' | 'Abort', rollout: string) =>
      callStep(method, { address: companion.address, rollout, namespace: 'default', kubeconfig, record: true, deadline: 5000 });

    // Given frontend at its gate: Run waits for backend and is recorded like the controller does
    atGate('frontend');
    let reply = await call('Run', 'frontend');
    expect(reply.phase).to.equal('Running');
    const stored = api.get('argoproj.io/v1alpha1', 'Rollout', 'default', 'frontend') as unknown as { status: { canary: { stepPluginStatuses: { phase: string; status: { gate: string } }[] } } };
    expect(stored.status.canary.stepPluginStatuses[0]!.phase).to.equal('Running');
    expect(stored.status.canary.stepPluginStatuses[0]!.status.gate).to.equal('release-42');

    // When backend arrives, both leave
    atGate('backend');
    reply = await call('Run', 'backend');
    expect(reply.phase).to.equal('Successful');
    reply = await call('Run', 'frontend');
    expect(reply.phase).to.equal('Successful');
    const step = (name: string) => (api.get('argoproj.io/v1alpha1', 'Rollout', 'default', name) as unknown as { status: { currentStepIndex: number } }).status.currentStepIndex;
    expect([step('frontend'), step('backend')]).to.deep.equal([2, 2]);
    // And Abort (the controller's call after an abort) clears what the gate recorded
    const aborted = await call('Abort', 'frontend');
    expect(aborted).to.deep.include({ phase: 'Successful', message: 'gate release-42: aborted; nothing kept' });
  });

  it('the StepPlugin service answers Type and rejects a request without a Rollout, naming the field', async () => {
    const step = createRemoteStep({ address: companion.address });
    try {
      expect(await step.type()).to.equal('rollouts-companion/lockstep');
      const bad = await step.run({ metadata: {} } as never, { pluginName: PLUGIN, config, status: undefined });
      expect(bad.phase).to.equal('Error');
      expect(bad.error).to.match(/rejected Step.Run: target.rollout_json is not a Rollout: metadata.name is missing/);
    } finally {
      step.close();
    }
  });

  it('exports gate metrics: members waiting and how long', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const kube = new KubeClient({ kubeConfig: api.kubeConfig() });
    const { server } = createCompanionServer({
      routerFor: () => {
        throw new Error('no routes here');
      },
      logger: silentLogger,
      step: createLocalStep({ client: kube, logger: silentLogger, gateObserver: gateMetricsObserver(metrics) }),
    });
    const port = await listen(server, '127.0.0.1:0');
    const step = createRemoteStep({ address: `127.0.0.1:${port}` });
    try {
      for (const name of members) api.create(memberRollout(name, config) as never);
      const frontend = { ...memberRollout('frontend', config), status: { phase: 'Progressing', currentStepIndex: 1 } };
      const arrived = new Date(Date.now() - 90_000).toISOString();
      await step.run(frontend, { pluginName: PLUGIN, config, status: { gate: 'release-42', revision: '2', arrivedAt: arrived } });
      const text = await metrics.registry.metrics();
      expect(text).to.match(/rollouts_companion_gate_members_waiting\{namespace="default",gate="release-42"\} 1/);
      const wait = Number(/rollouts_companion_gate_wait_seconds\{namespace="default",gate="release-42"\} ([\d.]+)/.exec(text)?.[1]);
      expect(wait).to.be.within(90, 150);
    } finally {
      step.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    }
  });
});
