import { makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';

import type { KubeObject } from '../../../src/kube/apiserver/index.js';
import { eventually, GATEWAY, httpRoute, NS, record, routeParams, startHarness, summary, type Harness } from './helpers.js';

const ROUTES = `/apis/${GATEWAY}/v1/namespaces/${NS}/httproutes`;
const API = `${GATEWAY}/v1`;

describe('in-process API server: watch through client-node', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bookmarkIntervalMs: 20 });
  });
  afterEach(() => h.server.close());

  const currentRv = async () => {
    const list = (await h.custom.listNamespacedCustomObject({ group: GATEWAY, version: 'v1', namespace: NS, plural: 'httproutes' })) as { metadata: { resourceVersion: string } };
    return list.metadata.resourceVersion;
  };

  it('streams ADDED, MODIFIED and DELETED from a list resourceVersion', async () => {
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv() });
    const created = h.server.create(httpRoute('r'));
    h.server.update({ ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
    h.server.delete(API, 'HTTPRoute', NS, 'r');
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['ADDED r', 'MODIFIED r', 'DELETED r']));
    const rvs = rec.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).to.deep.equal([...rvs].sort((a, b) => a - b));
    rec.abort();
  });

  it('starts with ADDED for every existing object when no resourceVersion is given', async () => {
    h.server.apply([httpRoute('a'), httpRoute('b')]);
    const rec = await record(h.kc, ROUTES);
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['ADDED a', 'ADDED b']));
    rec.abort();
  });

  it('replays what happened after an older resourceVersion', async () => {
    const from = await currentRv();
    h.server.apply([httpRoute('a')]);
    h.server.delete(API, 'HTTPRoute', NS, 'a');
    const rec = await record(h.kc, ROUTES, { resourceVersion: from });
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['ADDED a', 'DELETED a']));
    rec.abort();
  });

  it('turns a change that leaves or enters a label selector into DELETED or ADDED', async () => {
    h.server.apply([httpRoute('r', { track: 'canary' })]);
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv(), labelSelector: 'track=canary' });
    const label = (track: string) => {
      const cur = h.server.get(API, 'HTTPRoute', NS, 'r')!;
      h.server.update({ ...cur, metadata: { ...cur.metadata, labels: { track } } });
    };
    label('stable');
    label('canary');
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['DELETED r', 'ADDED r']));
    const deleted = rec.events[0]!.object;
    expect(deleted.metadata.labels).to.deep.equal({ track: 'canary' });
    expect(Number(deleted.metadata.resourceVersion)).to.be.lessThan(Number(rec.events[1]!.object.metadata.resourceVersion));
    rec.abort();
  });

  it('filters by field selector', async () => {
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv(), fieldSelector: 'metadata.name=b' });
    h.server.apply([httpRoute('a'), httpRoute('b')]);
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['ADDED b']));
    rec.abort();
  });

  it('sends bookmarks carrying the current resourceVersion when asked', async () => {
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv(), allowWatchBookmarks: true });
    h.server.apply([httpRoute('a')]);
    const rv = h.server.get(API, 'HTTPRoute', NS, 'a')!.metadata.resourceVersion;
    await eventually(() => {
      const bookmark = rec.events.find((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === rv);
      expect(bookmark?.object).to.deep.equal({ kind: 'HTTPRoute', apiVersion: API, metadata: { resourceVersion: rv } });
    });
    rec.abort();
  });

  it('sends no bookmarks unless asked', async () => {
    const plain = await record(h.kc, ROUTES, { resourceVersion: await currentRv() });
    const asked = await record(h.kc, ROUTES, { resourceVersion: await currentRv(), allowWatchBookmarks: true });
    await eventually(() => expect(asked.events.filter((e) => e.type === 'BOOKMARK')).to.have.length.at.least(2));
    expect(plain.events).to.deep.equal([]);
    plain.abort();
    asked.abort();
  });

  it('reports an expired resourceVersion as an ERROR event with code 410, then ends the watch', async () => {
    const old = await currentRv();
    h.server.apply([httpRoute('a')]);
    h.server.faults.compact();
    const rec = await record(h.kc, ROUTES, { resourceVersion: old });
    await eventually(() => expect(rec.done).to.equal(true));
    expect(summary(rec.events)).to.deep.equal(['ERROR']);
    expect(rec.events[0]!.object).to.include({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('reports a resourceVersion the server has not reached as an ERROR event with code 504', async () => {
    const ahead = String(Number(await currentRv()) + 1000);
    const rec = await record(h.kc, ROUTES, { resourceVersion: ahead });
    await eventually(() => expect(rec.done).to.equal(true));
    expect(rec.events[0]?.object).to.include({ code: 504, reason: 'Timeout' });
  });

  it('ends watches cleanly or abruptly when they are dropped', async () => {
    const clean = await record(h.kc, ROUTES, { resourceVersion: await currentRv() });
    h.server.faults.dropWatches();
    await eventually(() => expect(clean.done).to.equal(true));
    expect(clean.doneError).to.equal(null);

    const abrupt = await record(h.kc, ROUTES, { resourceVersion: await currentRv() });
    h.server.faults.dropWatches({ abrupt: true });
    await eventually(() => expect(abrupt.done).to.equal(true));
    expect(abrupt.doneError).to.be.instanceOf(Error);
  });

  it('ends a watch after timeoutSeconds', async () => {
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv(), timeoutSeconds: 1 });
    await eventually(() => expect(rec.done).to.equal(true));
    expect(rec.doneError).to.equal(null);
  });

  it('ends open watches on close()', async () => {
    const rec = await record(h.kc, ROUTES, { resourceVersion: await currentRv() });
    await h.server.close();
    await eventually(() => expect(rec.done).to.equal(true));
  });

  it('keeps a client-node informer in sync across dropped watches and compaction', async () => {
    const seen = new Map<string, string | undefined>();
    const informer = makeInformer<KubernetesObject>(
      h.kc,
      ROUTES,
      () => h.custom.listNamespacedCustomObject({ group: GATEWAY, version: 'v1', namespace: NS, plural: 'httproutes' }) as never,
    );
    const track = (o: KubernetesObject) => seen.set(o.metadata!.name!, o.metadata?.labels?.['track']);
    informer.on('add', track);
    informer.on('update', track);
    informer.on('delete', (o) => seen.delete(o.metadata!.name!));
    h.server.apply([httpRoute('a', { track: 'stable' })]);
    await informer.start();
    await eventually(() => expect([...seen]).to.deep.equal([['a', 'stable']]));

    h.server.faults.dropWatches();
    h.server.apply([httpRoute('a', { track: 'canary' }), httpRoute('b')]);
    await eventually(() => expect([...seen]).to.deep.equal([['a', 'canary'], ['b', undefined]]));

    // While no watch is open the history is compacted away: the informer's resume gets 410 and re-lists.
    h.server.faults.inject({
      verb: 'watch',
      resource: 'httproutes',
      beforeHook: () => {
        h.server.delete(API, 'HTTPRoute', NS, 'b');
        h.server.faults.compact();
      },
    });
    h.server.faults.dropWatches();
    await eventually(() => expect([...seen]).to.deep.equal([['a', 'canary']]));
    h.server.apply([httpRoute('c')]);
    await eventually(() => expect([...seen.keys()]).to.deep.equal(['a', 'c']));
    await informer.stop();
  });

  it('watches through the typed client path for pods too', async () => {
    const rec = await record(h.kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: await currentRv() });
    await h.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'p' }, spec: { containers: [] } } });
    await h.custom.createNamespacedCustomObject({ ...routeParams('ignored'), body: httpRoute('ignored') as KubeObject });
    await eventually(() => expect(summary(rec.events)).to.deep.equal(['ADDED p']));
    expect(rec.events[0]!.object).to.include({ kind: 'Pod', apiVersion: 'v1' });
    rec.abort();
  });
});
