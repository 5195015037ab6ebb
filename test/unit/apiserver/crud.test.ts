import { expect } from 'chai';

import { apiError, GATEWAY, httpRoute, NS, routeParams, startHarness, type Harness } from './helpers.js';
import type { KubeObject } from '../../../src/kube/apiserver/index.js';

describe('in-process API server: CRUD through client-node', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.server.close());

  it('creates, reads, lists, replaces and deletes a pod', async () => {
    const created = await h.core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'web-1', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    expect(created.metadata?.uid).to.be.a('string');
    expect(created.metadata?.resourceVersion).to.match(/^\d+$/);
    expect(created.metadata?.creationTimestamp).to.be.instanceOf(Date);

    const read = await h.core.readNamespacedPod({ name: 'web-1', namespace: NS });
    expect(read.spec?.containers[0]?.image).to.equal('nginx');

    const list = await h.core.listNamespacedPod({ namespace: NS });
    expect(list.items.map((p) => p.metadata?.name)).to.deep.equal(['web-1']);
    expect(Number(list.metadata?.resourceVersion)).to.be.at.least(Number(created.metadata?.resourceVersion));

    read.metadata!.labels = { app: 'web', track: 'canary' };
    const replaced = await h.core.replaceNamespacedPod({ name: 'web-1', namespace: NS, body: read });
    expect(replaced.metadata?.labels).to.deep.equal({ app: 'web', track: 'canary' });
    expect(Number(replaced.metadata?.resourceVersion)).to.be.greaterThan(Number(read.metadata?.resourceVersion));

    await h.core.deleteNamespacedPod({ name: 'web-1', namespace: NS });
    const gone = await apiError(h.core.readNamespacedPod({ name: 'web-1', namespace: NS }));
    expect(gone).to.include({ code: 404, reason: 'NotFound', message: 'pods "web-1" not found' });
  });

  it('answers NotFound, AlreadyExists and Invalid like the real server', async () => {
    const missing = await apiError(h.custom.getNamespacedCustomObject(routeParams('nope')));
    expect(missing).to.deep.include({
      kind: 'Status',
      status: 'Failure',
      code: 404,
      reason: 'NotFound',
      message: `httproutes.${GATEWAY} "nope" not found`,
      details: { name: 'nope', group: GATEWAY, kind: 'httproutes' },
    });

    await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') });
    const dup = await apiError(h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') }));
    expect(dup).to.include({ code: 409, reason: 'AlreadyExists', message: `httproutes.${GATEWAY} "r" already exists` });

    const nameless = { ...httpRoute('x'), metadata: { namespace: NS } };
    const invalid = await apiError(h.custom.createNamespacedCustomObject({ ...routeParams('x'), body: nameless }));
    expect(invalid.code).to.equal(422);
    expect(invalid.reason).to.equal('Invalid');
    expect(invalid.details?.causes?.[0]?.field).to.equal('metadata.name');
  });

  it('refuses a create in a namespace that does not exist', async () => {
    const status = await apiError(h.core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'c' } } }));
    expect(status).to.include({ code: 404, message: 'namespaces "nowhere" not found' });
  });

  it('rejects an update carrying a stale resourceVersion with 409 Conflict', async () => {
    await h.custom.createNamespacedCustomObject({ ...routeParams('canary-route'), body: httpRoute('canary-route') });
    const first = (await h.custom.getNamespacedCustomObject(routeParams('canary-route'))) as KubeObject;
    const second = structuredClone(first);

    (first.spec as { hostnames?: string[] }).hostnames = ['a.example'];
    await h.custom.replaceNamespacedCustomObject({ ...routeParams('canary-route'), body: first });

    (second.spec as { hostnames?: string[] }).hostnames = ['b.example'];
    const status = await apiError(h.custom.replaceNamespacedCustomObject({ ...routeParams('canary-route'), body: second }));
    expect(status).to.include({
      code: 409,
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on httproutes.${GATEWAY} "canary-route": the object has been modified; please apply your changes to the latest version and try again`,
    });
    const stored = h.server.get(`${GATEWAY}/v1`, 'HTTPRoute', NS, 'canary-route')!;
    expect((stored.spec as { hostnames: string[] }).hostnames).to.deep.equal(['a.example']);
  });

  it('requires a resourceVersion to replace a custom resource', async () => {
    await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') });
    const status = await apiError(h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') }));
    expect(status).to.include({ code: 422, reason: 'Invalid' });
  });

  it('bumps generation only when the spec changes', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') })) as KubeObject;
    expect(created.metadata.generation).to.equal(1);

    created.metadata.labels = { touched: 'yes' };
    const relabelled = (await h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: created })) as KubeObject;
    expect(relabelled.metadata.generation).to.equal(1);

    const withStatus = (await h.custom.replaceNamespacedCustomObjectStatus({
      ...routeParams('r'),
      body: { ...relabelled, status: { parents: [] } },
    })) as KubeObject;
    expect(withStatus.metadata.generation).to.equal(1);

    (withStatus.spec as { hostnames?: string[] }).hostnames = ['x.example'];
    const respecced = (await h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: withStatus })) as KubeObject;
    expect(respecced.metadata.generation).to.equal(2);
  });

  it('keeps status out of the main resource and spec out of /status', async () => {
    const created = (await h.custom.createNamespacedCustomObject({
      ...routeParams('r'),
      body: { ...httpRoute('r'), status: { parents: ['dropped on create'] } },
    })) as KubeObject;
    expect(created['status']).to.equal(undefined);

    const statusBody = { ...created, spec: { hostnames: ['ignored'] }, status: { parents: [{ controllerName: 'x' }] } };
    const afterStatus = (await h.custom.replaceNamespacedCustomObjectStatus({ ...routeParams('r'), body: statusBody })) as KubeObject;
    expect(afterStatus['status']).to.deep.equal({ parents: [{ controllerName: 'x' }] });
    expect(afterStatus['spec']).to.deep.equal(httpRoute('r')['spec']);

    const mainBody = { ...afterStatus, status: { parents: [] } };
    const afterMain = (await h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: mainBody })) as KubeObject;
    expect(afterMain['status']).to.deep.equal({ parents: [{ controllerName: 'x' }] });
  });

  it('does not write when an update changes nothing', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') })) as KubeObject;
    const same = (await h.custom.replaceNamespacedCustomObject({ ...routeParams('r'), body: created })) as KubeObject;
    expect(same.metadata.resourceVersion).to.equal(created.metadata.resourceVersion);
  });

  it('serves v1beta1 HTTPRoutes from the same storage as v1', async () => {
    h.server.apply([{ ...httpRoute('seeded'), apiVersion: `${GATEWAY}/v1beta1` }]);
    const viaV1 = (await h.custom.getNamespacedCustomObject(routeParams('seeded'))) as KubeObject;
    const viaBeta = (await h.custom.getNamespacedCustomObject({ ...routeParams('seeded'), version: 'v1beta1' })) as KubeObject;
    expect(viaV1.apiVersion).to.equal(`${GATEWAY}/v1`);
    expect(viaBeta.apiVersion).to.equal(`${GATEWAY}/v1beta1`);
    expect(viaBeta.metadata.uid).to.equal(viaV1.metadata.uid);
  });

  it('filters lists by label and field selectors', async () => {
    h.server.apply([
      httpRoute('a', { app: 'shop', track: 'stable' }),
      httpRoute('b', { app: 'shop', track: 'canary' }),
      httpRoute('c', { app: 'blog' }),
    ]);
    const names = async (labelSelector?: string, fieldSelector?: string) => {
      const list = (await h.custom.listNamespacedCustomObject({
        group: GATEWAY,
        version: 'v1',
        namespace: NS,
        plural: 'httproutes',
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      })) as { items: KubeObject[] };
      return list.items.map((i) => i.metadata.name);
    };
    expect(await names('app=shop')).to.deep.equal(['a', 'b']);
    expect(await names('app==shop,track!=canary')).to.deep.equal(['a']);
    expect(await names('track in (canary, stable)')).to.deep.equal(['a', 'b']);
    expect(await names('track notin (canary)')).to.deep.equal(['a', 'c']);
    expect(await names('track')).to.deep.equal(['a', 'b']);
    expect(await names('!track')).to.deep.equal(['c']);
    expect(await names(undefined, 'metadata.name=b')).to.deep.equal(['b']);
    expect(await names('app=shop', 'metadata.name!=b')).to.deep.equal(['a']);
  });

  it('lists across namespaces and keeps cluster-scoped objects out of namespaces', async () => {
    h.server.apply([{ ...httpRoute('other'), metadata: { name: 'other', namespace: 'team-b' } }, httpRoute('mine')]);
    const all = (await h.custom.listClusterCustomObject({ group: GATEWAY, version: 'v1', plural: 'httproutes' })) as { items: KubeObject[] };
    expect(all.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).to.deep.equal(['default/mine', 'team-b/other']);
    const namespaces = await h.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).to.include('team-b');
  });

  it('deletes with a resourceVersion precondition', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r') })) as KubeObject;
    const status = await apiError(
      h.custom.deleteNamespacedCustomObject({ ...routeParams('r'), body: { preconditions: { resourceVersion: '1' } } }),
    );
    expect(status).to.include({ code: 409, reason: 'Conflict' });
    await h.custom.deleteNamespacedCustomObject({ ...routeParams('r'), body: { preconditions: { resourceVersion: created.metadata.resourceVersion! } } });
    expect(h.server.get(`${GATEWAY}/v1`, 'HTTPRoute', NS, 'r')).to.equal(undefined);
  });

  it('stores nothing on dryRun=All', async () => {
    const before = h.server.requestLog.length;
    const created = (await h.custom.createNamespacedCustomObject({ ...routeParams('r'), body: httpRoute('r'), dryRun: 'All' })) as KubeObject;
    expect(created.metadata.uid).to.be.a('string');
    expect(h.server.get(`${GATEWAY}/v1`, 'HTTPRoute', NS, 'r')).to.equal(undefined);

    const stored = h.server.create(httpRoute('r'));
    const replaced = (await h.custom.replaceNamespacedCustomObject({
      ...routeParams('r'),
      body: { ...stored, spec: { hostnames: ['x'] } },
      dryRun: 'All',
    })) as KubeObject;
    expect(replaced.metadata.generation).to.equal(2);
    await h.custom.deleteNamespacedCustomObject({ ...routeParams('r'), dryRun: 'All' });
    expect(h.server.get(`${GATEWAY}/v1`, 'HTTPRoute', NS, 'r')).to.deep.equal(stored);
    expect(h.server.requestLog.slice(before).map((e) => e.query)).to.deep.equal(['dryRun=All', 'dryRun=All', 'dryRun=All']);
  });

  it('answers malformed JSON with 400 and unknown resources with 404', async () => {
    const malformed = await fetch(`${h.server.url}/apis/${GATEWAY}/v1/namespaces/${NS}/httproutes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"metadata": ',
    });
    expect(malformed.status).to.equal(400);
    expect(await malformed.json()).to.include({ kind: 'Status', reason: 'BadRequest' });

    const unknown = await fetch(`${h.server.url}/apis/${GATEWAY}/v1/namespaces/${NS}/widgets`);
    expect(unknown.status).to.equal(404);
    expect(await unknown.json()).to.include({ kind: 'Status', reason: 'NotFound' });
  });

  it('accepts YAML bodies and refuses protobuf it cannot read with 415', async () => {
    const post = (contentType: string, body: string) =>
      fetch(`${h.server.url}/api/v1/namespaces/${NS}/configmaps`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    const yaml = await post('application/yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\ndata: {a: b}\n');
    expect(yaml.status).to.equal(201);
    expect((await h.core.readNamespacedConfigMap({ name: 'from-yaml', namespace: NS })).data).to.deep.equal({ a: 'b' });
    const proto = await post('application/vnd.kubernetes.protobuf', 'k8s\u0000');
    expect(proto.status).to.equal(415);
    expect(await proto.json()).to.include({ reason: 'UnsupportedMediaType' });
  });

  it('seeds through the direct API with the same bookkeeping', () => {
    const created = h.server.create({ ...httpRoute('seeded'), status: { parents: [] } });
    expect(created.metadata.generation).to.equal(1);
    expect(created['status']).to.deep.equal({ parents: [] });
    const updated = h.server.update({ ...created, spec: { parentRefs: [] } });
    expect(updated.metadata.generation).to.equal(2);
    expect(Number(updated.metadata.resourceVersion)).to.be.greaterThan(Number(created.metadata.resourceVersion));
    expect(h.server.list(`${GATEWAY}/v1`, 'HTTPRoute', NS).map((r) => r.metadata.name)).to.deep.equal(['seeded']);
    h.server.delete(`${GATEWAY}/v1`, 'HTTPRoute', NS, 'seeded');
    expect(h.server.list(`${GATEWAY}/v1`, 'HTTPRoute')).to.deep.equal([]);
  });
});
