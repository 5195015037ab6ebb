import { expect } from 'chai';

import type { KubeObject } from '../../../src/kube/apiserver/index.js';
import { apiError, GATEWAY, httpRoute, NS, routeParams, startHarness, type Harness } from './helpers.js';

describe('in-process API server: faults and request log', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.server.apply([httpRoute('canary-route')]);
  });
  afterEach(() => h.server.close());

  it('answers an injected fault with a Status, for as many requests as asked', async () => {
    h.server.faults.inject({ verb: 'get', resource: 'httproutes', name: 'canary-route', status: 500, times: 2 });
    expect(await apiError(h.custom.getNamespacedCustomObject(routeParams('canary-route')))).to.include({ code: 500, reason: 'InternalError', kind: 'Status' });
    expect(await apiError(h.custom.getNamespacedCustomObject(routeParams('canary-route')))).to.include({ code: 500 });
    const route = (await h.custom.getNamespacedCustomObject(routeParams('canary-route'))) as KubeObject;
    expect(route.metadata.name).to.equal('canary-route');
  });

  it('matches faults by verb, resource, subresource and name', async () => {
    h.server.faults.inject({ resource: 'httproutes/status', status: 503, times: Infinity });
    h.server.faults.inject({ verb: 'list', status: 429, message: 'slow down' });
    await h.custom.getNamespacedCustomObject(routeParams('canary-route'));
    const statusWrite = await apiError(h.custom.patchNamespacedCustomObjectStatus({ ...routeParams('canary-route'), body: [] }));
    expect(statusWrite).to.include({ code: 503, reason: 'ServiceUnavailable' });
    const list = await apiError(h.core.listNamespacedPod({ namespace: NS }));
    expect(list).to.include({ code: 429, message: 'slow down' });
  });

  it('removes a rule with the function inject returns', async () => {
    const remove = h.server.faults.inject({ verb: 'get', status: 500, times: Infinity });
    remove();
    await h.custom.getNamespacedCustomObject(routeParams('canary-route'));
  });

  it('simulates a concurrent writer so the next update gets a real 409', async () => {
    const read = (await h.custom.getNamespacedCustomObject(routeParams('canary-route'))) as KubeObject;
    h.server.faults.conflictOnNextUpdate('httproutes', 'canary-route', (o) => {
      o.metadata.labels = { 'written-by': 'someone-else' };
    });
    (read['spec'] as { hostnames?: string[] }).hostnames = ['mine.example'];
    const status = await apiError(h.custom.replaceNamespacedCustomObject({ ...routeParams('canary-route'), body: read }));
    expect(status).to.include({ code: 409, reason: 'Conflict' });

    const fresh = (await h.custom.getNamespacedCustomObject(routeParams('canary-route'))) as KubeObject;
    expect(fresh.metadata.labels).to.deep.equal({ 'written-by': 'someone-else' });
    (fresh['spec'] as { hostnames?: string[] }).hostnames = ['mine.example'];
    await h.custom.replaceNamespacedCustomObject({ ...routeParams('canary-route'), body: fresh });
  });

  it('answers 503 while down, and serves again when up', async () => {
    await h.server.faults.down();
    expect(await apiError(h.custom.getNamespacedCustomObject(routeParams('canary-route')))).to.include({ code: 503 });
    await h.server.faults.up();
    await h.custom.getNamespacedCustomObject(routeParams('canary-route'));
  });

  it('refuses connections while down in refuse mode, on the same URL when up', async () => {
    await h.server.faults.down('refuse');
    const err = await h.custom.getNamespacedCustomObject(routeParams('canary-route')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((err as { code?: unknown }).code ?? err)).to.match(/ECONNREFUSED/);
    await h.server.faults.up();
    await h.custom.getNamespacedCustomObject(routeParams('canary-route'));
  });

  it('logs every request with its outcome', async () => {
    h.server.requestLog.length = 0;
    await h.custom.getNamespacedCustomObject(routeParams('canary-route'));
    await apiError(h.custom.getNamespacedCustomObject(routeParams('missing')));
    const base = `/apis/${GATEWAY}/v1/namespaces/${NS}/httproutes`;
    expect(h.server.requestLog).to.deep.equal([
      { method: 'GET', path: `${base}/canary-route`, query: '', status: 200, verb: 'get' },
      { method: 'GET', path: `${base}/missing`, query: '', status: 404, verb: 'get' },
    ]);
    expect(h.server.requestLog.filter((r) => r.method !== 'GET')).to.deep.equal([]);
  });
});
