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
