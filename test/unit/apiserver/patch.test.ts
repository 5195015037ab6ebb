import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';

import { jsonPatch, mergePatch, strategicMergePatch } from '../../../src/kube/apiserver/patch.js';
import type { KubeObject } from '../../../src/kube/apiserver/index.js';
import { apiError, httpRoute, NS, routeParams, startHarness, type Harness } from './helpers.js';

// client-node 1.x picks the first media type the API lists, application/json-patch+json, for every
// PATCH; any other patch type needs the Content-Type header set through a per-call middleware.
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

describe('in-process API server: PATCH through client-node', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.server.apply([httpRoute('r', { app: 'shop', track: 'stable' })]);
    h.server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: NS, labels: { app: 'web', track: 'stable' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
  });
  afterEach(() => h.server.close());

  it('sets and deletes a label with a merge patch', async () => {
    const set = (await h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: { metadata: { labels: { track: 'canary', pinned: 'yes' } } } }, merge)) as KubeObject;
    expect(set.metadata.labels).to.deep.equal({ app: 'shop', track: 'canary', pinned: 'yes' });
    const removed = (await h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: { metadata: { labels: { pinned: null } } } }, merge)) as KubeObject;
    expect(removed.metadata.labels).to.deep.equal({ app: 'shop', track: 'canary' });
    expect(removed.metadata.generation).to.equal(1);
  });

  it('sets and deletes a pod label with a strategic merge patch', async () => {
    const set = await h.core.patchNamespacedPod({ name: 'web-1', namespace: NS, body: { metadata: { labels: { track: 'canary' } } } }, strategic);
    expect(set.metadata?.labels).to.deep.equal({ app: 'web', track: 'canary' });
    const removed = await h.core.patchNamespacedPod({ name: 'web-1', namespace: NS, body: { metadata: { labels: { track: null } } } }, strategic);
    expect(removed.metadata?.labels).to.deep.equal({ app: 'web' });
  });

  it('refuses a strategic merge patch on a custom resource, as the real server does', async () => {
    const status = await apiError(h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: { metadata: { labels: { a: 'b' } } } }, strategic));
    expect(status).to.include({ code: 415, reason: 'UnsupportedMediaType' });
  });

  it('applies a JSON patch, and refuses it when a test operation fails', async () => {
    const ops = [
      { op: 'test', path: '/spec/rules/0/backendRefs/0/weight', value: 100 },
      { op: 'replace', path: '/spec/rules/0/backendRefs/0/weight', value: 80 },
      { op: 'add', path: '/spec/rules/0/backendRefs/-', value: { name: 'canary', port: 80, weight: 20 } },
    ];
    const patched = (await h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: ops }, json)) as KubeObject;
    expect((patched['spec'] as { rules: { backendRefs: unknown[] }[] }).rules[0]!.backendRefs).to.deep.equal([
      { name: 'stable', port: 80, weight: 80 },
      { name: 'canary', port: 80, weight: 20 },
    ]);
    expect(patched.metadata.generation).to.equal(2);

    const status = await apiError(h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: ops }, json));
    expect(status.code).to.equal(422);
    expect(status.message).to.contain('test failed');
  });

  it('sends application/json-patch+json when no Content-Type is set', async () => {
    const status = await apiError(h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: { metadata: { labels: { a: 'b' } } } }));
    expect(status).to.include({ code: 400, reason: 'BadRequest' });
    const viaDefault = (await h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body: [{ op: 'add', path: '/metadata/labels/a', value: 'b' }] })) as KubeObject;
    expect(viaDefault.metadata.labels?.['a']).to.equal('b');
  });

  it('rejects a patch whose resourceVersion is stale with 409', async () => {
    const current = h.server.get('gateway.networking.k8s.io/v1', 'HTTPRoute', NS, 'r')!;
    h.server.update({ ...current, metadata: { ...current.metadata, annotations: { bumped: 'yes' } } });
    const body = { metadata: { resourceVersion: current.metadata.resourceVersion, labels: { a: 'b' } } };
    const status = await apiError(h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body }, merge));
    expect(status).to.include({ code: 409, reason: 'Conflict' });
  });

  it('patches status only through /status', async () => {
    const body = { status: { parents: [{ controllerName: 'example.com/gw' }] } };
    const viaMain = (await h.custom.patchNamespacedCustomObject({ ...routeParams('r'), body }, merge)) as KubeObject;
    expect(viaMain['status']).to.equal(undefined);
    const viaStatus = (await h.custom.patchNamespacedCustomObjectStatus({ ...routeParams('r'), body }, merge)) as KubeObject;
    expect(viaStatus['status']).to.deep.equal(body.status);
    expect(viaStatus.metadata.generation).to.equal(1);
  });

  it('answers 404 for a patch of a missing object', async () => {
    const status = await apiError(h.custom.patchNamespacedCustomObject({ ...routeParams('nope'), body: {} }, merge));
    expect(status).to.include({ code: 404, reason: 'NotFound' });
  });
});

describe('patch functions', () => {
  it('merge patch follows RFC 7386', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).to.deep.equal({ a: 'z', c: { d: 'e' } });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).to.deep.equal({ a: [1] });
    expect(mergePatch({ e: null }, { a: 1 })).to.deep.equal({ e: null, a: 1 });
    expect(mergePatch({ a: 'foo' }, 'bar')).to.equal('bar');
  });

  it('strategic merge patch honours $patch, $retainKeys and $deleteFromPrimitiveList, and replaces lists', () => {
    const target = { m: { a: 1, b: 2 }, l: [1, 2, 3], keep: { x: 1, y: 2 } };
    expect(strategicMergePatch(target, { m: { $patch: 'replace', c: 3 } })).to.deep.include({ m: { c: 3 } });
    expect(strategicMergePatch(target, { m: { $patch: 'delete' } })).to.not.have.property('m');
    expect(strategicMergePatch(target, { '$deleteFromPrimitiveList/l': [2] })).to.deep.include({ l: [1, 3] });
    expect(strategicMergePatch(target, { keep: { $retainKeys: ['x'], x: 5 } })).to.deep.include({ keep: { x: 5 } });
    expect(strategicMergePatch(target, { l: [9], '$setElementOrder/l': [9] })).to.deep.include({ l: [9] });
  });

  it('JSON patch supports add, remove, replace, move, copy and test', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'test', path: '/e~1f', value: 'y' },
    ]);
    expect(out).to.deep.equal({ a: { b: [9, 2] }, c: 'y', 'e/f': 'y' });
    expect(doc).to.deep.equal({ a: { b: [1, 2] }, c: 'x' });
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/missing' }])).to.throw(/missing/);
  });
});
