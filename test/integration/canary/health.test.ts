import { expect } from 'chai';
import { startCanaryController, type CanaryController } from '../../../src/canary/index.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { startHealthServer, type HealthServer } from '../../../src/observability/health.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { attachedPod, blueGreenRollout, eventually, managedService } from './fixtures.js';

describe('long-lived canaries: health and metrics endpoints', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let controller: CanaryController;
  let http: HealthServer;
  afterEach(async () => {
    await http?.close();
    await controller?.stop();
    await api?.close();
  });

  it('Given the API server unavailable, Then /readyz is 503 until the caches sync, and /metrics reports the relabel', async () => {
    api = await startApiServer();
    api.create(blueGreenRollout('bluegreen-demo', 'aaa'));
    api.create(managedService('bluegreen-demo', 'bluegreen-demo', 'aaa'));
    api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
    await api.faults.down('unavailable');

    const metrics = createMetrics();
    controller = await startCanaryController({
      kube: new KubeClient({ kubeConfig: api.kubeConfig() }),
      metrics,
      watchBackoff: { baseMs: 20, maxMs: 100 },
    });
    http = await startHealthServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, live: () => true, ready: () => controller.ready() });

    expect((await fetch(`${http.url}/healthz`)).status).to.equal(200);
    expect((await fetch(`${http.url}/readyz`)).status).to.equal(503);

    await api.faults.up();
    await eventually('/readyz to turn 200', async () => (await fetch(`${http.url}/readyz`)).status === 200);
    const text = await eventually('the relabel to be counted', async () => {
      const body = await (await fetch(`${http.url}/metrics`)).text();
      return body.includes('rollouts_companion_relabels_total{result="patched"} 1') && body;
    });
    expect(text).to.contain('rollouts_companion_attached_pods{namespace="rollouts-demo",rollout="bluegreen-demo"} 1');
    expect(text).to.contain('rollouts_companion_leader 1');
    expect(text).to.contain('process_resident_memory_bytes');
  });
});
