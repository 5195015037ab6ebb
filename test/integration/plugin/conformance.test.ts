import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleNames, ruleWeights } from '../../support/routes.js';
import { decodeTrafficRouterArgs } from '../../../src/plugin/go-to-kube.js';
import { afterGob } from '../../support/gob-losses.js';
import { pluginCalls } from '../../support/wiretap.js';
import {
  CANARY,
  CANARY_HASH,
  describeRun,
  HOSTS,
  REALHOST,
  httpRoute,
  pluginBundle,
  requireHost,
  runHost,
  seedAndRollout,
  STABLE,
  STABLE_HASH,
  topLevel,
  type HostRun,
  type Scenario,
} from './support.js';

// The plugin under both hosts (the go-plugin host with its look-alike types, and realhost:
// Argo Rollouts v1.9.1's own plugin client and complete type tree), against the in-process
// API server seeded with the seeds' routes: canary-route (app.example.com, stable +
// canary), always-old-version (stable) and always-new-version (canary). Each scenario is
// one or more controller reconciles; after each, the routes on the API server are what a
// user would look at.

const IN_PROGRESS_LABEL = 'rollouts.argoproj.io/gatewayapi-canary';
/** A fully populated production Rollout: every volume kind, probes, security contexts, status with conditions and step plugin statuses, ... */
const FULL_ROLLOUT = join(import.meta.dirname, '../../fixtures/realhost/full-rollout.json');

for (const host of HOSTS) describe(`plugin under ${host.name}: the seeds' pinned routes`, function () {
  this.timeout(120_000);
  let api: ApiServer;
  let rollout: Rollout;
  let kubeconfig: string;

  before(async () => {
    requireHost(host.path);
    await pluginBundle();
  });

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedAndRollout(api);
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'plugin-kube-')), 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
  });
  afterEach(async () => {
    await api.close();
  });

  const play = (calls: Record<string, unknown>[], args: string[] = [], r: unknown = rollout, wiretap?: string): Promise<HostRun> =>
    runHost({ rollout: r, calls } satisfies Scenario, ['--kubeconfig', kubeconfig, '--log-level', 'debug', ...args], { host: host.path, wiretap });

  function expectAllOk(run: HostRun): void {
    expect(run.code, describeRun(run)).to.equal(0);
    for (const line of run.lines) {
      expect(line.ok, `${line.method}: ${JSON.stringify(line)}\n${describeRun(run)}`).to.equal(true);
    }
  }

  const weights = () => ruleWeights(httpRoute(api, 'canary-route'));
  const names = () => ruleNames(httpRoute(api, 'canary-route'));
  const pinnedVersions = () => [httpRoute(api, 'always-old-version'), httpRoute(api, 'always-new-version')].map((r) => r.metadata.resourceVersion);

  it('walks canary-route 0→10→50→100→0 with header and mirror routes, one reconcile per plugin start', async () => {
    const pinnedBefore = pinnedVersions();
    const hashes = { canaryHash: CANARY_HASH, stableHash: STABLE_HASH };

    // Given a fresh plugin process: InitPlugin, Type, Ping, and reconcile 1 at weight 0
    let run = await play([
      { method: 'InitPlugin' },
      { method: 'Type' },
      { method: 'Ping' },
      { method: 'RemoveManagedRoutes' },
      { method: 'UpdateHash', ...hashes },
      { method: 'SetWeight', desiredWeight: 0 },
      { method: 'VerifyWeight', desiredWeight: 0 },
    ]);
    // Then every call is answered, Type names us, and all traffic stays on stable
    expectAllOk(run);
    expect(topLevel(run).map((l) => l.method)).to.deep.equal(['InitPlugin', 'Type', 'Ping', 'RemoveManagedRoutes', 'UpdateHash', 'SetWeight', 'VerifyWeight']);
    expect(topLevel(run)[1]!.type).to.equal('rollouts-companion/gatewayAPI');
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);

    // When step 0 sets 10 %
    run = await play([
      { method: 'InitPlugin' },
      { method: 'UpdateHash', ...hashes },
      { method: 'SetWeight', desiredWeight: 10 },
      { method: 'VerifyWeight', desiredWeight: 10 },
    ]);
    expectAllOk(run);
    // Then canary-route carries 90/10, is labelled in progress, and the weight verifies
    expect(weights()).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
    expect(httpRoute(api, 'canary-route').metadata.labels?.[IN_PROGRESS_LABEL]).to.equal('in-progress');
    expect(topLevel(run)[3]!.verified).to.equal(1);

    // When step 1 adds the header route X-Canary: yes
    const atStep = (i: number) => ({ rolloutPatch: { status: { currentStepIndex: i } } });
    run = await play([
      { method: 'InitPlugin' },
      { method: 'SetHeaderRoute', ...atStep(1), setHeaderRoute: { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } },
      { method: 'UpdateHash', ...atStep(1), ...hashes },
      { method: 'SetWeight', ...atStep(1), desiredWeight: 10 },
    ]);
    expectAllOk(run);
    // Then a second rule sends X-Canary: yes to the canary only
    expect(names()).to.deep.equal(['canary-header', undefined]);
    const headerRule = httpRoute(api, 'canary-route').spec.rules![0]!;
    expect(headerRule.matches).to.deep.equal([
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] },
    ]);
    expect((headerRule.backendRefs as { name: string }[]).map((b) => b.name)).to.deep.equal([CANARY]);

    // When step 3 mirrors half of /api and step 4 sets 50 %
    run = await play([
      { method: 'InitPlugin' },
      { method: 'SetMirrorRoute', ...atStep(3), setMirrorRoute: { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] } },
      { method: 'UpdateHash', ...atStep(4), ...hashes },
      { method: 'SetWeight', ...atStep(4), desiredWeight: 50 },
      { method: 'VerifyWeight', ...atStep(4), desiredWeight: 50 },
    ]);
    expectAllOk(run);
    // Then the weighted rule is 50/50 and a mirror rule copies /api to the canary
    expect(weights()[2]).to.deep.equal({ [STABLE]: 50, [CANARY]: 50 });
    expect(names()).to.deep.equal(['canary-header', 'canary-mirror', undefined]);
    expect(httpRoute(api, 'canary-route').spec.rules![1]!.filters).to.deep.equal([
      { type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 80 }, percent: 50 } },
    ]);

    // When the steps are done: 100 %
    run = await play([
      { method: 'InitPlugin' },
      { method: 'UpdateHash', ...atStep(6), ...hashes },
      { method: 'SetWeight', ...atStep(6), desiredWeight: 100 },
      { method: 'VerifyWeight', ...atStep(6), desiredWeight: 100 },
    ]);
    expectAllOk(run);
    expect(weights()[2]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });

    // When fully promoted: the controller removes managed routes and goes back to 0
    const promoted = { rolloutPatch: { status: { currentStepIndex: 6, stableRS: CANARY_HASH, phase: 'Healthy' } } };
    const reconcile = [
      { method: 'Ping' },
      { method: 'RemoveManagedRoutes', ...promoted },
      { method: 'UpdateHash', ...promoted, canaryHash: CANARY_HASH, stableHash: CANARY_HASH },
      { method: 'SetWeight', ...promoted, desiredWeight: 0 },
      { method: 'VerifyWeight', ...promoted, desiredWeight: 0 },
    ];
    run = await play([{ method: 'InitPlugin' }, ...reconcile]);
    expectAllOk(run);
    // Then only the weighted rule is left, all on stable, and the label is gone
    expect(names()).to.deep.equal([undefined]);
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
    expect(httpRoute(api, 'canary-route').metadata.labels?.[IN_PROGRESS_LABEL]).to.equal(undefined);

    // When every later reconcile repeats the same calls
    const rv = httpRoute(api, 'canary-route').metadata.resourceVersion;
    run = await play([{ method: 'InitPlugin' }, ...reconcile, ...reconcile]);
    expectAllOk(run);
    // Then nothing is written
    expect(httpRoute(api, 'canary-route').metadata.resourceVersion).to.equal(rv);
    // And the pinned routes were never touched
    expect(pinnedVersions()).to.deep.equal(pinnedBefore);
  });

  it('plays the host\'s own pinned-routes example for an argoproj-labs/gatewayAPI Rollout via --plugin-name', async () => {
    // Given the example scenario exactly as shipped with the host (plugin key argoproj-labs/gatewayAPI)
    const example = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../../shared/goplugin-host/examples/trafficrouter-pinned-routes.json'), 'utf8'),
    ) as Scenario;
    const pinnedBefore = pinnedVersions();
    // When it runs against our plugin told to read that key
    const run = await runHost(example, ['--kubeconfig', kubeconfig, '--plugin-name', 'argoproj-labs/gatewayAPI'], { host: host.path });
    // Then every expectation in it holds
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.lines.filter((l) => l.expectError)).to.deep.equal([]);
    // And the route ends promoted: all traffic on stable, no header rule; pinned routes untouched
    expect(names()).to.deep.equal([undefined]);
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
    expect(pinnedVersions()).to.deep.equal(pinnedBefore);
  });

  it('walks a fully populated production Rollout 0→30→0, and receives it intact', async () => {
    // Given the production Rollout (same name, Services and plugin config as the seed's)
    const full = JSON.parse(readFileSync(FULL_ROLLOUT, 'utf8')) as Rollout;
    const capture = join(mkdtempSync(join(tmpdir(), 'wiretap-')), 'full.raw');
    // When the controller reconciles it to 30 % and back, with header and mirror routes
    const hashes = { canaryHash: CANARY_HASH, stableHash: STABLE_HASH };
    const run = await play(
      [
        { method: 'InitPlugin' },
        { method: 'Type' },
        { method: 'UpdateHash', ...hashes },
        { method: 'SetWeight', desiredWeight: 30 },
        { method: 'VerifyWeight', desiredWeight: 30 },
        { method: 'SetHeaderRoute', setHeaderRoute: { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } },
        { method: 'SetMirrorRoute', setMirrorRoute: { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] } },
        { method: 'RemoveManagedRoutes' },
        { method: 'SetWeight', desiredWeight: 0 },
      ],
      [],
      full,
      capture,
    );
    // Then every call is answered and the routes show each step's outcome
    expectAllOk(run);
    expect(topLevel(run)[4]!.verified).to.equal(1);
    expect(weights()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
    expect(names()).to.deep.equal([undefined]);
    // And under the controller's real client, the Kubernetes JSON the plugin rebuilt from
    // each call is the Rollout sent, less only gob's documented losses (zero values,
    // Quantity amounts); the go-plugin host's look-alike types carry only part of it
    const calls = pluginCalls(new Uint8Array(readFileSync(capture))).filter((c) => !/InitPlugin|Type/.test(c.header.ServiceMethod ?? ''));
    expect(calls).to.have.length(7);
    for (const call of calls) {
      const { rollout: received } = decodeTrafficRouterArgs(call.header.ServiceMethod!, call.body);
      if (host.path === REALHOST) expect(received, call.header.ServiceMethod).to.deep.equal(afterGob(full));
      else expect(received.spec!.strategy!.canary!.trafficRouting!.plugins).to.deep.equal(full.spec!.strategy!.canary!.trafficRouting!.plugins);
    }
  });

  it('answers Type and InitPlugin without its Kubernetes client, and names why the client failed on the calls that need it', async () => {
    // Given a plugin whose Kubernetes client cannot start (no such kubeconfig)
    const run = await runHost(
      { rollout, calls: [{ method: 'Type' }, { method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 10 }, { method: 'Ping' }] },
      ['--kubeconfig', join(tmpdir(), 'no-such-dir', 'kubeconfig')],
      { host: host.path },
    );
    // Then the controller's first call is answered as usual: it does not wait for the client
    expect(run.code, describeRun(run)).to.equal(0);
    const [type, init, setWeight, ping] = topLevel(run);
    expect(type).to.include({ ok: true, type: 'rollouts-companion/gatewayAPI' });
    // And InitPlugin is answered too: at once, or with the reason when the load has already failed
    expect(init!.ok || /could not start its router: .*no-such-dir/.test(init!.rpcError ?? ''), JSON.stringify(init)).to.equal(true);
    // And SetWeight answers with the reason, and the plugin keeps serving
    expect(setWeight).to.include({ ok: false });
    expect(setWeight!.rpcError).to.match(/could not start its router: .*no-such-dir/);
    expect(ping).to.include({ ok: true });
  });

  it('answers an RpcError naming the route when the managed route is missing, and keeps serving', async () => {
    // Given canary-route was deleted
    api.delete('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route');
    // When the controller sets 10 % and then verifies
    const run = await play([
      { method: 'InitPlugin' },
      { method: 'SetWeight', desiredWeight: 10 },
      { method: 'VerifyWeight', desiredWeight: 10 },
      { method: 'Ping' },
    ]);
    // Then SetWeight is an answer with the reason, not a transport failure, and the plugin lives on
    expect(run.code, describeRun(run)).to.equal(0);
    expect(topLevel(run)[1]).to.include({ method: 'SetWeight', ok: false });
    expect(topLevel(run)[1]!.rpcError).to.match(/canary-route/);
    expect(topLevel(run)[1]!.transportError).to.equal(undefined);
    expect(topLevel(run)[2]!.verified ?? 0).to.equal(0);
    expect(topLevel(run)[3]).to.include({ method: 'Ping', ok: true });
  });

  it('carries a Rollout over 1 MiB intact (yamux flow control past the 256 KiB window)', async () => {
    // Given a Rollout with a 1.2 MiB annotation
    const big = { ...rollout, metadata: { ...rollout.metadata, annotations: { ...rollout.metadata.annotations, 'example.com/blob': 'x'.repeat(1_200_000) } } };
    // When the controller sets 30 % with it, twice, and verifies
    const run = await play(
      [
        { method: 'InitPlugin' },
        { method: 'SetWeight', desiredWeight: 30 },
        { method: 'SetWeight', desiredWeight: 30 },
        { method: 'VerifyWeight', desiredWeight: 30 },
      ],
      [],
      big,
    );
    // Then the calls succeed and the route says 70/30
    expectAllOk(run);
    expect(weights()).to.deep.equal([{ [STABLE]: 70, [CANARY]: 30 }]);
  });

  it('answers 50 concurrent SetWeight and VerifyWeight calls and 20 pings over one connection', async () => {
    const run = await play([
      { method: 'InitPlugin' },
      { method: 'Parallel', count: 50, call: { method: 'SetWeight', desiredWeight: 20, expect: { ok: true } }, expect: { ok: true } },
      { method: 'Parallel', count: 50, call: { method: 'VerifyWeight', desiredWeight: 20, expect: { ok: true } } },
      { method: 'Parallel', count: 20, call: { method: 'Ping', expect: { ok: true } } },
    ], ['--kube-qps', '1000', '--kube-burst', '1000']);
    expect(run.code, describeRun(run)).to.equal(0);
    const summaries = topLevel(run).filter((l) => l.method === 'Parallel');
    expect(summaries.map((s) => (s.result as { ok: number }).ok)).to.deep.equal([50, 50, 20]);
    expect(run.lines.filter((l) => l.sub !== undefined && !l.ok)).to.deep.equal([]);
    expect(weights()).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
  });

  it('quits gracefully when killed, and serves again after a restart', async () => {
    // Given the host's resilience calls: kill (Control.Quit, 2 s grace), call while down, restart
    const run = await play([
      { method: 'InitPlugin', expect: { ok: true } },
      { method: 'SetWeight', desiredWeight: 20, expect: { ok: true } },
      { method: 'Kill', expect: { result: { exited: true, graceful: true } } },
      { method: 'SetWeight', desiredWeight: 25, expect: { ok: false, transportError: '/not running/' } },
      { method: 'Restart', expect: { ok: true } },
      { method: 'InitPlugin', expect: { ok: true } },
      { method: 'Ping', expect: { ok: true } },
      { method: 'SetWeight', desiredWeight: 40, expect: { ok: true } },
      { method: 'Kill', expect: { result: { graceful: true } } },
    ]);
    // Then the plugin exited by itself with status 0 both times
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.lines.filter((l) => l.expectError)).to.deep.equal([]);
    const kills = run.lines.filter((l) => l.method === 'Kill');
    expect(kills.map((k) => k.result)).to.deep.equal([
      { wasRunning: true, exited: true, exitCode: 0, graceful: true },
      { wasRunning: true, exited: true, exitCode: 0, graceful: true },
    ]);
    // And the call made while it was down changed nothing
    expect(weights()).to.deep.equal([{ [STABLE]: 60, [CANARY]: 40 }]);
  });

  it('logs through the host\'s log parser (hclog JSON on stderr, never raw lines)', async () => {
    const run = await play([{ method: 'InitPlugin' }, { method: 'SetWeight', desiredWeight: 10 }]);
    expectAllOk(run);
    // The host re-logs each parsed plugin line with its level and message; an unparsed line
    // would appear with its JSON text as the message.
    expect(run.stderr).to.match(/\[DEBUG\] plugin\.node: plugin call: .*method=SetWeight/);
    expect(run.stderr).to.not.include('"@message"');
  });
});
