import { expect } from 'chai';
import { createMetrics } from '../../../src/observability/metrics.js';
import { startHealthServer, type HealthServer } from '../../../src/observability/health.js';

describe('observability', () => {
  describe('metrics', () => {
    it('exports the names and labels dashboards rely on', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.relabels.inc({ result: 'patched' });
      metrics.relabelDelay.observe(0.05);
      metrics.attachedPods.set({ namespace: 'demo', rollout: 'bluegreen-demo' }, 2);
      metrics.watchRestarts.inc({ resource: 'pods' });
      metrics.leader.set(1);
      metrics.rpcRequests.inc({ method: 'SetWeight', result: 'ok' });
      metrics.rpcDuration.observe({ method: 'SetWeight' }, 0.01);
      metrics.routeWrites.inc({ kind: 'HTTPRoute' });
      metrics.routeConflicts.inc({ kind: 'HTTPRoute' });
      const text = await metrics.registry.metrics();
      for (const line of [
        'rollouts_companion_relabels_total{result="patched"} 1',
        'rollouts_companion_relabel_delay_seconds_count 1',
        'rollouts_companion_attached_pods{namespace="demo",rollout="bluegreen-demo"} 2',
        'rollouts_companion_watch_restarts_total{resource="pods"} 1',
        'rollouts_companion_leader 1',
        'rollouts_companion_rpc_requests_total{method="SetWeight",result="ok"} 1',
        'rollouts_companion_rpc_duration_seconds_count{method="SetWeight"} 1',
        'rollouts_companion_route_writes_total{kind="HTTPRoute"} 1',
        'rollouts_companion_route_conflicts_total{kind="HTTPRoute"} 1',
      ]) {
        expect(text).to.contain(line);
      }
    });

    it('includes process metrics by default', async () => {
      const text = await createMetrics().registry.metrics();
      expect(text).to.contain('process_resident_memory_bytes');
    });
  });

  describe('health server', () => {
    let server: HealthServer | undefined;
    afterEach(async () => server?.close());

    it('Given caches not synced, Then /readyz is 503 while /healthz is 200; once synced /readyz is 200', async () => {
      let synced = false;
      const metrics = createMetrics({ defaultMetrics: false });
      server = await startHealthServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, live: () => true, ready: () => synced });
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
      expect((await fetch(`${server.url}/readyz`)).status).to.equal(503);
      synced = true;
      expect((await fetch(`${server.url}/readyz`)).status).to.equal(200);
    });

    it('serves the registry on /metrics and 404 elsewhere', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.relabels.inc({ result: 'error' });
      server = await startHealthServer({ address: '127.0.0.1:0', registry: metrics.registry, live: () => true, ready: () => true });
      const response = await fetch(`${server.url}/metrics`);
      expect(response.headers.get('content-type')).to.contain('text/plain');
      expect(await response.text()).to.contain('rollouts_companion_relabels_total{result="error"} 1');
      expect((await fetch(`${server.url}/nope`)).status).to.equal(404);
      expect(server.address).to.match(/^127\.0\.0\.1:\d+$/);
    });
  });
});
