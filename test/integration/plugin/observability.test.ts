import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, pluginArgv, pluginBundle, requireHost, seededClusterEach, type Scenario } from './support.js';

// What an operator sees of the in-process plugin: Prometheus metrics on --metrics-listen while
// the controller (the go-plugin host) drives it, and Events on the Rollout for route changes.

interface Event {
  type: string;
  reason: string;
  message: string;
  count: number;
  involvedObject: { kind: string; name: string; uid?: string };
}

/** Starts the host on `scenario`; resolves the plugin's metrics URL once it logs it, and the exit. */
function startHost(scenario: Scenario, pluginArgs: string[]) {
  requireHost();
  const dir = mkdtempSync(join(tmpdir(), 'gphost-metrics-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  let stdout = '';
  let stderr = '';
  const started = pluginArgv(pluginArgs).then((argv) =>
    spawn(HOST, ['-kind', 'trafficrouter', '-scenario', file, '-timeout', '20s', '-log-level', 'info', '--', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const metricsUrl = started.then(
    (child) =>
      new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const address = /plugin metrics listening.*?"?address"?[:=]"?([0-9.]+:\d+)/.exec(stderr)?.[1];
          if (address) resolve(`http://${address}/metrics`);
        });
        child.on('close', () => reject(new Error(`the host ended before the plugin served metrics:\n${stderr.slice(-3000)}`)));
      }),
  );
  const exited = started.then((child) => new Promise<number | null>((resolve) => child.on('close', resolve)));
  return { metricsUrl, exited, output: () => ({ stdout, stderr }) };
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('plugin under the go-plugin host: metrics (--metrics-listen) and route Events', function () {
  this.timeout(120_000);
  before(async () => {
    requireHost();
    await pluginBundle();
  });
  const cluster = seededClusterEach();

  it('Given SetWeight 10, 10 and a refused header route, Then /metrics counts calls, errors, route writes, API requests and connections, and the Rollout has one Event', async () => {
    const host = startHost(
      {
        rollout: cluster.rollout,
        calls: [
          { method: 'InitPlugin' },
          { method: 'SetWeight', desiredWeight: 10 },
          { method: 'SetWeight', desiredWeight: 10 },
          { method: 'SetHeaderRoute', setHeaderRoute: { name: 'not-declared', match: [{ headerName: 'X', headerValue: { exact: 'y' } }] } },
          { method: 'VerifyWeight', desiredWeight: 10 },
          { method: 'Sleep', ms: 4000 },
        ],
      },
      ['--kubeconfig', cluster.kubeconfig, '--metrics-listen', '127.0.0.1:0'],
    );
    const url = await host.metricsUrl;
    // The calls run while the plugin is up; read once the four before the Sleep are counted.
    let text = '';
    for (let i = 0; i < 100; i += 1) {
      text = await (await fetch(url)).text();
      if ((sample(text, 'rollouts_companion_rpc_duration_seconds_count', { method: 'VerifyWeight' }) ?? 0) >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }

    expect(sample(text, 'rollouts_companion_rpc_requests_total', { method: 'SetWeight', result: 'ok' })).to.equal(2);
    expect(sample(text, 'rollouts_companion_rpc_requests_total', { method: 'SetHeaderRoute', result: 'error' })).to.equal(1);
    expect(sample(text, 'rollouts_companion_rpc_duration_seconds_count', { method: 'SetWeight' })).to.equal(2);
    expect(sample(text, 'rollouts_companion_route_writes_total', { kind: 'HTTPRoute' }), 'one write: the second SetWeight changes nothing').to.equal(1);
    expect(sample(text, 'rollouts_companion_kube_requests_total', { verb: 'update', code: '200' })).to.be.at.least(1);
    expect(sample(text, 'rollouts_companion_kube_requests_total', { verb: 'get', code: '200' })).to.be.at.least(2);
    expect(sample(text, 'rollouts_companion_open_connections', { direction: 'inbound' }), 'the host’s connection (and this scrape)').to.be.at.least(1);
    expect(sample(text, 'rollouts_companion_connections_opened_total', { direction: 'outbound' })).to.be.at.least(1);
    expect(sample(text, 'process_resident_memory_bytes')).to.be.greaterThan(0);

    expect(await host.exited, host.output().stderr.slice(-3000)).to.equal(0);
    const events = (cluster.api.list('v1', 'Event', 'default') as unknown as Event[]).map((e) => `${e.type} ${e.reason} x${e.count} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
    expect(events).to.deep.equal([`Normal TrafficWeightUpdated x1 Rollout/${cluster.rollout.metadata.name}: canary weight 10 on HTTPRoute default/canary-route`]);
  });

  it('Given no --metrics-listen, Then the plugin opens no port and still records route Events', async () => {
    const host = startHost(
      { rollout: cluster.rollout, calls: [{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 30 }] },
      ['--kubeconfig', cluster.kubeconfig],
    );
    host.metricsUrl.catch(() => undefined);
    expect(await host.exited, host.output().stderr.slice(-3000)).to.equal(0);
    expect(host.output().stderr).to.not.contain('plugin metrics listening');
    const events = cluster.api.list('v1', 'Event', 'default') as unknown as Event[];
    expect(events.map((e) => e.reason)).to.deep.equal(['TrafficWeightUpdated']);
  });
});
