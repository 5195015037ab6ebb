import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { bundleServe, startServe, waitReady, type ServeProcess } from '../../../bench/serve-process.js';
import { describeRun, pluginBundle, requireHost, runHost, seedAndRollout, topLevel } from './support.js';

// Traces as an operator's collector receives them: the plugin under the go-plugin host forwards
// a SetWeight to the companion (`serve`, its own process); both export OTLP/HTTP to a receiver
// in this test, and the spans form one tree: plugin SetWeight → companion SetWeight → route write.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; arrayValue?: { values: { stringValue?: string }[] } } }[];
  service: string;
}

interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: Omit<OtlpSpan, 'service'>[] }[];
  }[];
}

/** An OTLP/HTTP (JSON) trace receiver. */
async function startReceiver(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpBody;
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const attribute = (span: OtlpSpan, key: string): string | string[] | undefined => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.arrayValue?.values.map((v) => v.stringValue ?? '');
};

describe('traces: SetWeight through the plugin (go-plugin host, remote mode) and the companion', function () {
  this.timeout(180_000);
  let api: ApiServer;
  let rollout: Rollout;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let companion: ServeProcess;

  before(async () => {
    requireHost();
    await Promise.all([pluginBundle(), bundleServe()]);
  });
  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedAndRollout(api);
    // `serve` acts only on Rollouts stored in the cluster (the request's copy is never trusted).
    rollout = api.create({ ...rollout, apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' }) as Rollout;
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await companion?.stop();
    receiver.server.close();
    await api.close();
  });

  it('Given OTEL_EXPORTER_OTLP_ENDPOINT in both processes, Then the collector gets one trace: plugin SetWeight → companion SetWeight → route write, with rollout and route attributes', async () => {
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    // Traces are the subject here; callers' tokens have their own end-to-end test (test/integration/security/plugin-remote.test.ts).
    companion = await startServe(api, await bundleServe(), ['--no-long-lived-canaries', '--insecure-allow-unauthenticated'], [], { ...process.env, ...otel });
    await waitReady(companion);

    const run = await runHost({ rollout, calls: [{ method: 'SetWeight', desiredWeight: 10 }] }, ['--companion', companion.grpc], { env: otel });
    expect(topLevel(run).map((l) => l.rpcError ?? ''), describeRun(run)).to.deep.equal(['']);

    const deadline = Date.now() + 15_000;
    const find = (service: string, name: string) => receiver.spans.find((s) => s.service === service && s.name === name);
    while (!(find('rollouts-companion-plugin', 'SetWeight') && find('rollouts-companion', 'route write')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const plugin = find('rollouts-companion-plugin', 'SetWeight');
    const server = find('rollouts-companion', 'TrafficRouter/SetWeight');
    const write = find('rollouts-companion', 'route write');
    expect(plugin, JSON.stringify(receiver.spans.map((s) => `${s.service}: ${s.name}`))).to.not.equal(undefined);
    expect(server).to.not.equal(undefined);
    expect(write).to.not.equal(undefined);

    expect(plugin!.parentSpanId || undefined, 'the plugin span is the root').to.equal(undefined);
    expect(server!.traceId, 'one trace across both processes').to.equal(plugin!.traceId);
    expect(server!.parentSpanId, 'companion span continues the plugin span').to.equal(plugin!.spanId);
    expect(write!.traceId).to.equal(plugin!.traceId);
    expect(write!.parentSpanId, 'route write inside the companion call').to.equal(server!.spanId);

    expect(attribute(plugin!, 'rollouts.rollout.name')).to.equal(rollout.metadata.name);
    expect(attribute(write!, 'rollouts.routes')).to.deep.equal(['HTTPRoute/default/canary-route']);
    expect(attribute(write!, 'rollouts.routes_written')).to.deep.equal(['HTTPRoute/default/canary-route']);
  });
});
