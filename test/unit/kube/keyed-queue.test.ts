import { expect } from 'chai';
import { KeyedQueue } from '../../../src/kube/keyed-queue.js';

describe('KeyedQueue', () => {
  it('runs tasks on the same key one after the other, in order', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => () =>
      new Promise<string>((resolve) => {
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          resolve(name);
        }, ms);
      });
    const results = await Promise.all([q.run('route-a', task('1', 20)), q.run('route-a', task('2', 1))]);
    expect(results).to.deep.equal(['1', '2']);
    expect(log).to.deep.equal(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('runs different keys concurrently', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let release!: () => void;
    const blocked = q.run('a', () => new Promise<void>((r) => (release = r)));
    await q.run('b', async () => log.push('b ran while a was blocked'));
    release();
    await blocked;
    expect(log).to.deep.equal(['b ran while a was blocked']);
  });

  it('keeps going after a failed task and forgets idle keys', async () => {
    const q = new KeyedQueue();
    const failed = q.run('a', async () => {
      throw new Error('boom');
    });
    expect(await failed.catch((err: Error) => err.message)).to.equal('boom');
    expect(await q.run('a', async () => 'next')).to.equal('next');
    await new Promise((r) => setImmediate(r));
    expect(q.size).to.equal(0);
  });
});

describe('KeyedQueue: several keys per call', () => {
  it('two calls over the same routes in opposite orders never wait on each other in a cycle', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const work = (name: string) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 10));
      log.push(`end ${name}`);
    };
    await Promise.all([q.run(['route-a', 'route-b'], work('1')), q.run(['route-b', 'route-a'], work('2'))]);
    expect(log).to.deep.equal(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(q.size).to.equal(0);
  });

  it('a waiter whose caller has gone leaves the queue without running, and releases what it held', async () => {
    const q = new KeyedQueue();
    let release!: () => void;
    const holder = q.run('route-b', () => new Promise<void>((r) => (release = r)));
    const gone = new AbortController();
    const abandoned = q.run(['route-a', 'route-b'], async () => 'ran', gone.signal).catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 5));
    gone.abort(new Error('caller went away'));
    expect(await abandoned).to.equal('caller went away');
    // route-a (taken first, in sorted order) was given back: another call gets it at once.
    expect(await q.run('route-a', async () => 'free')).to.equal('free');
    release();
    await holder;
    expect(q.size).to.equal(0);
  });
});
