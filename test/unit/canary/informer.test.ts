import { expect } from 'chai';
import type { Watch } from '@kubernetes/client-node';
import { Informer, type InformerOptions, type ListPage } from '../../../src/canary/informer.js';

interface View {
  name: string;
  value: string;
}

interface FakeStream {
  query: Record<string, unknown>;
  emit(type: string, object: unknown): void;
  end(error: unknown): void;
  aborted: boolean;
}

/** Stands in for client-node's Watch: each call opens a stream the test drives. */
class FakeWatch {
  readonly streams: FakeStream[] = [];
  failNext: unknown[] = [];

  async watch(
    _path: string,
    query: Record<string, unknown>,
    callback: (type: string, object: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    const failure = this.failNext.shift();
    const stream: FakeStream = {
      query,
      emit: (type, object) => callback(type, object),
      end: (error) => done(error),
      get aborted() {
        return controller.signal.aborted;
      },
    };
    this.streams.push(stream);
    if (failure !== undefined) done(failure);
    return controller;
  }
}

const obj = (name: string, value: string, rv: string) => ({ metadata: { name, namespace: 'demo', resourceVersion: rv }, value });

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

function setup(lists: (() => ListPage | Promise<ListPage>)[], overrides: Partial<InformerOptions<View>> = {}) {
  const watch = new FakeWatch();
  const events: string[] = [];
  const errors: { message: string; retryInMs: number }[] = [];
  let restarts = 0;
  let listCalls = 0;
  const informer = new Informer<View>({
    resource: 'things',
    watch: watch as unknown as Watch,
    path: '/api/v1/things',
    labelSelector: 'attached',
    list: async () => {
      const next = lists[Math.min(listCalls, lists.length - 1)];
      listCalls += 1;
      return next();
    },
    project: (o) => {
      const { metadata, value } = o as { metadata: { name: string }; value: string };
      return value === 'ignored' ? undefined : { name: metadata.name, value };
    },
    equal: (a, b) => a.value === b.value,
    handlers: {
      add: (v) => events.push(`add ${v.name}=${v.value}`),
      update: (p, v) => events.push(`update ${v.name} ${p.value}->${v.value}`),
      delete: (v) => events.push(`delete ${v.name}`),
    },
    onRestart: () => (restarts += 1),
    onError: (error, _phase, retryInMs) => errors.push({ message: (error as Error).message, retryInMs }),
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    ...overrides,
  });
  return { watch, events, errors, informer, restarts: () => restarts, listCalls: () => listCalls };
}

describe('canary informer', () => {
  it('Given a list, Then it caches the projections and watches from the list resourceVersion with bookmarks and the selector', async () => {
    const t = setup([() => ({ items: [obj('a', '1', '5'), obj('b', 'ignored', '6')], metadata: { resourceVersion: '10' } })]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    expect(t.informer.hasSynced()).to.equal(true);
    expect(t.events).to.deep.equal(['add a=1']);
    expect(t.informer.get('demo/b'), 'projected away, not cached').to.equal(undefined);
    expect(t.watch.streams[0].query).to.include({ resourceVersion: '10', allowWatchBookmarks: true, labelSelector: 'attached' });
    await t.informer.stop();
  });

  it('Given watch events, Then adds, changes and deletes reach the handlers; unchanged projections and dropped objects are handled', async () => {
    const t = setup([() => ({ items: [obj('a', '1', '5')], metadata: { resourceVersion: '10' } })]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    const s = t.watch.streams[0];
    s.emit('ADDED', obj('b', '1', '11'));
    s.emit('MODIFIED', obj('a', '1', '12'));
    s.emit('MODIFIED', obj('a', '2', '13'));
    s.emit('MODIFIED', obj('b', 'ignored', '14'));
    s.emit('DELETED', obj('a', '2', '15'));
    expect(t.events).to.deep.equal(['add a=1', 'add b=1', 'update a 1->2', 'delete b', 'delete a']);
    expect(t.informer.size).to.equal(0);
    await t.informer.stop();
  });

  it('Given a bookmark and then a clean end, Then the next watch resumes from the bookmark without a relist', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    t.watch.streams[0].emit('BOOKMARK', { metadata: { resourceVersion: '42' } });
    t.watch.streams[0].end(null);
    await until(() => t.watch.streams.length === 2, 'the second watch');
    expect(t.watch.streams[1].query).to.include({ resourceVersion: '42' });
    expect(t.listCalls()).to.equal(1);
    expect(t.restarts()).to.equal(1);
    await t.informer.stop();
  });

  it('Given a 410 Gone event mid-stream, Then it relists, reports what changed meanwhile, and watches from the new list', async () => {
    const t = setup([
      () => ({ items: [obj('a', '1', '5'), obj('b', '1', '6')], metadata: { resourceVersion: '10' } }),
      () => ({ items: [obj('a', '2', '30'), obj('c', '1', '31')], metadata: { resourceVersion: '40' } }),
    ]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    t.watch.streams[0].emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await until(() => t.watch.streams.length === 2, 'the watch after the relist');
    expect(t.watch.streams[0].aborted, 'the old stream is closed').to.equal(true);
    expect(t.events).to.deep.equal(['add a=1', 'add b=1', 'update a 1->2', 'add c=1', 'delete b']);
    expect(t.watch.streams[1].query).to.include({ resourceVersion: '40' });
    await t.informer.stop();
  });

  it('Given the watch request answered with HTTP 410, Then it relists too', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })]);
    t.watch.failNext = [Object.assign(new Error('Gone'), { statusCode: 410 })];
    t.informer.start();
    await until(() => t.listCalls() === 2 && t.watch.streams.length === 2, 'a relist and a new watch');
    await t.informer.stop();
  });

  it('Given watch errors, Then it reconnects with back-off from the same resourceVersion, without relisting', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })]);
    const unavailable = Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    t.watch.failNext = [unavailable, unavailable, unavailable];
    t.informer.start();
    await until(() => t.watch.streams.length === 4, 'the fourth watch');
    expect(t.watch.streams.map((s) => s.query.resourceVersion)).to.deep.equal(['10', '10', '10', '10']);
    expect(t.listCalls()).to.equal(1);
    await t.informer.stop();
  });

  it('Given a watch refused for a resourceVersion the server has not reached (504 Too large), Then it lists again after the back-off', async () => {
    const t = setup([
      () => ({ items: [obj('a', '1', '5')], metadata: { resourceVersion: '900' } }),
      () => ({ items: [obj('a', '2', '7')], metadata: { resourceVersion: '8' } }),
    ]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    // As the API server says it once etcd was restored from a backup taken before version 900.
    t.watch.streams[0].emit('ERROR', {
      kind: 'Status',
      code: 504,
      reason: 'Timeout',
      message: 'Timeout: Too large resource version: 900, current: 8',
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
    });
    await until(() => t.watch.streams.length === 2, 'the watch after the relist');
    expect(t.listCalls()).to.equal(2);
    expect(t.watch.streams.map((s) => s.query.resourceVersion)).to.deep.equal(['900', '8']);
    expect(t.events).to.deep.equal(['add a=1', 'update a 1->2']);
    expect(t.errors).to.have.length(1);
    await t.informer.stop();
  });

  it('Given the watch request answered with HTTP 504, Then it lists again after the back-off', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })]);
    t.watch.failNext = [Object.assign(new Error('Gateway Timeout'), { statusCode: 504 })];
    t.informer.start();
    await until(() => t.listCalls() === 2 && t.watch.streams.length === 2, 'a relist and a new watch');
    expect(t.errors).to.have.length(1);
    await t.informer.stop();
  });

  it('Given the list fails, Then it is not synced and retries until the list succeeds', async () => {
    let calls = 0;
    const t = setup([
      () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error('boom'), { code: 500 });
        return { items: [obj('a', '1', '5')], metadata: { resourceVersion: '10' } };
      },
    ]);
    t.informer.start();
    await until(() => t.informer.hasSynced(), 'the sync');
    expect(calls).to.equal(3);
    expect(t.events).to.deep.equal(['add a=1']);
    await t.informer.stop();
  });

  it('Given a paged list whose continue token expires, Then it lists everything again in one read', async () => {
    const t = setup([
      () => ({ items: [obj('a', '1', '5')], metadata: { resourceVersion: '10', _continue: 'page-2' } }),
      () => {
        throw Object.assign(new Error('Gone'), { code: 410 });
      },
      () => ({ items: [obj('a', '1', '5'), obj('b', '1', '7')], metadata: { resourceVersion: '12' } }),
    ]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    expect(t.events).to.deep.equal(['add a=1', 'add b=1']);
    expect(t.watch.streams[0].query).to.include({ resourceVersion: '12' });
    await t.informer.stop();
  });

  it('Given watches that each ran healthy before dropping with an error, Then every retry waits the base back-off, not a growing one', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })], { backoffBaseMs: 20, backoffMaxMs: 30_000, healthyAfterMs: 30 });
    t.informer.start();
    const reset = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    for (let drop = 1; drop <= 4; drop += 1) {
      await until(() => t.watch.streams.length === drop, `watch ${drop}`);
      await new Promise((resolve) => setTimeout(resolve, 40));
      t.watch.streams[drop - 1].end(reset);
    }
    await until(() => t.watch.streams.length === 5, 'the fifth watch');
    expect(t.errors.map((e) => e.retryInMs).every((ms) => ms <= 24), JSON.stringify(t.errors)).to.equal(true);
    await t.informer.stop();
  });

  it('Given watches that fail at once, Then the back-off keeps growing', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })], { backoffBaseMs: 4, backoffMaxMs: 30_000, healthyAfterMs: 10_000 });
    const unavailable = Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    t.watch.failNext = [unavailable, unavailable, unavailable, unavailable];
    t.informer.start();
    await until(() => t.watch.streams.length === 5, 'the fifth watch');
    const delays = t.errors.map((e) => e.retryInMs);
    expect(delays[3], JSON.stringify(delays)).to.be.greaterThan(delays[0] * 4);
    await t.informer.stop();
  });

  it('Given a watch whose connection stays open but never ends (silent), Then it is replaced within about twice the server-side timeout', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })], { watchTimeoutSeconds: 1 });
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    expect(t.watch.streams[0].query.timeoutSeconds).to.equal(1);
    const opened = Date.now();
    await until(() => t.watch.streams.length === 2, 'a new watch after the silent one');
    expect(Date.now() - opened, 'detected by 2× the timeout (plus scheduling slack)').to.be.at.most(3_000);
    expect(t.watch.streams[0].aborted, 'the silent connection is closed').to.equal(true);
    expect(t.errors[0].message).to.match(/^the things watch went silent/);
    expect(t.watch.streams[1].query.resourceVersion, 'resumed without a relist').to.equal('10');
    await t.informer.stop();
  });

  it('Given a long back-off, When wake() is called (the API server answers again), Then it retries at once', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })], { backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    t.watch.failNext = [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })];
    t.informer.start();
    await until(() => t.errors.length === 1, 'the failed watch');
    expect(t.errors[0].retryInMs).to.be.at.least(48_000);
    t.informer.wake();
    await until(() => t.watch.streams.length === 2, 'the retry');
    await t.informer.stop();
  });

  it('Given stop, Then the open watch is aborted and no new one starts', async () => {
    const t = setup([() => ({ items: [], metadata: { resourceVersion: '10' } })]);
    t.informer.start();
    await until(() => t.watch.streams.length === 1, 'the watch');
    await t.informer.stop();
    expect(t.watch.streams[0].aborted).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.watch.streams.length).to.equal(1);
  });
});
