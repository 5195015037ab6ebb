import { expect } from 'chai';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevCluster } from '../../../src/cli/dev-cluster.js';
import { readRollout } from '../../../src/cli/manifests.js';
import { DEFAULT_SEED_DIR } from '../../../src/cli/serve.js';
import { Verified } from '../../../src/routing/api.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { MIRRORED_HEADER, RULE_HEADER, startTrafficGateway, type TrafficGateway } from '../../../src/kube/apiserver/traffic-gateway.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { seedPinnedRoutes } from '../../support/seed.js';

// Dev mode's simulated gateway carries real HTTP: requests are routed by the HTTPRoutes in the
// embedded API server (the request-matching model) to built-in "stable" and "canary" backends.

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(gateway: TrafficGateway, host: string, path = '/', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${gateway.url}${path}`, { headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject).end();
  });
}

describe('dev mode: the simulated gateway carries traffic', () => {
  let api: ApiServer;
  let gateway: TrafficGateway;
  let companion: RunningCompanion;
  let rollout: Rollout;
  // Evenly spread draws: 10 requests at 90/10 land exactly 9 and 1.
  let draw = 0;
  const spread = () => ((draw++ % 10) + 0.5) / 10;
  const tally = async (n: number, host: string, path = '/', headers: Record<string, string> = {}) => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const a = await get(gateway, host, path, headers);
      seen[a.body.trim()] = (seen[a.body.trim()] ?? 0) + 1;
    }
    return seen;
  };

  before(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedPinnedRoutes(api);
    // As dev mode seeds it: the Rollout says which Service is stable and which canary.
    api.apply([{ ...rollout, metadata: { namespace: 'default', ...rollout.metadata } } as never]);
    gateway = await startTrafficGateway({ source: api, random: spread });
    companion = await startCompanion(api.kubeConfig());
  });
  after(async () => {
    await companion.stop();
    await gateway.close();
    await api.close();
  });

  it('sends app.example.com by the canary weight, step by step', async () => {
    draw = 0;
    expect(await tally(10, 'app.example.com')).to.deep.equal({ stable: 5, canary: 5 }); // seeds: no weights, 1:1
    for (const [weight, expected] of [[0, { stable: 10 }], [10, { stable: 9, canary: 1 }], [50, { stable: 5, canary: 5 }], [100, { canary: 10 }]] as const) {
      expect((await companion.client.setWeight(rollout, weight, [])).error).to.equal('');
      draw = 0;
      expect(await tally(10, 'app.example.com:8000'), `at ${weight} %`).to.deep.equal(expected);
    }
  });

  it('keeps the pinned hosts on their version, answers 404 for unknown hosts, and names the rule', async () => {
    expect(await tally(5, 'old.example.com')).to.deep.equal({ stable: 5 });
    expect(await tally(5, 'new.example.com')).to.deep.equal({ canary: 5 });
    const unknown = await get(gateway, 'nobody.example.com', '/x');
    expect([unknown.status, unknown.body]).to.deep.equal([404, 'dev gateway: no route matches nobody.example.com/x (404)\n']);
    expect((await get(gateway, 'old.example.com')).headers[RULE_HEADER]).to.equal('HTTPRoute default/always-old-version rules[0]');
  });

  it('follows header and mirror routes', async () => {
    expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
    const header = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };
    expect((await companion.client.setHeaderRoute(rollout, header)).error).to.equal('');
    expect(await tally(5, 'app.example.com', '/', { 'X-Canary': 'yes' })).to.deep.equal({ canary: 5 });
    expect(await tally(5, 'app.example.com')).to.deep.equal({ stable: 5 });
    const mirror = { name: 'canary-mirror', percentage: 100, match: [{ path: { prefix: '/api' } }] };
    expect((await companion.client.setMirrorRoute(rollout, mirror)).error).to.equal('');
    const a = await get(gateway, 'app.example.com', '/api/orders');
    expect([a.body, a.headers[MIRRORED_HEADER]]).to.deep.equal(['stable\n', 'canary']);
  });
});

describe('dev mode: --no-gateway', () => {
  it('runs no simulated gateway: routes keep no status, and VerifyWeight judges by weights alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rc-nogw-'));
    const dev = await startDevCluster(DEFAULT_SEED_DIR, join(dir, 'state'), false);
    const companion = await startCompanion(dev.api.kubeConfig());
    try {
      expect(dev.gateway).to.equal(undefined);
      const rollout = await readRollout(join(DEFAULT_SEED_DIR, 'rollout.yaml'));
      expect((await companion.client.setWeight(rollout, 10, [])).error).to.equal('');
      await new Promise((r) => setTimeout(r, 50));
      const route = dev.api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route')!;
      expect(route['status']).to.equal(undefined);
      expect(await companion.client.verifyWeight(rollout, 10, [])).to.include({ verified: Verified.Verified, error: '' });
    } finally {
      await companion.stop();
      await dev.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
