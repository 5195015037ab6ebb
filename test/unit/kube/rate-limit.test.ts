import { expect } from 'chai';
import { QueueFullError, RateLimiter } from '../../../src/kube/rate-limit.js';

describe('RateLimiter', () => {
  it('lets a burst through at once, then queues the rest in order', async () => {
    const limiter = new RateLimiter(1000, 3);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('rejects a nonsensical configuration with the numbers', () => {
    expect(() => new RateLimiter(0, 1)).to.throw('rate limit needs qps > 0 and burst >= 1 (got qps=0, burst=1)');
  });
});

describe('RateLimiter: a bounded queue that abandoned requests leave', () => {
  it('refuses at once when the queue is full, instead of growing it', async () => {
    const limiter = new RateLimiter(1, 1, 2);
    await limiter.acquire();
    const waiting = [limiter.acquire(), limiter.acquire()];
    let refused: unknown;
    await limiter.acquire().catch((e: unknown) => (refused = e));
    expect(refused).to.be.instanceOf(QueueFullError);
    expect((refused as Error).message).to.equal('rate-limit queue full (2 waiting)');
    expect(limiter.queued).to.equal(2);
    void waiting;
  });

  it('a request whose caller has gone leaves the queue; the next one moves up', async () => {
    const limiter = new RateLimiter(20, 1, 10);
    await limiter.acquire();
    const gone = new AbortController();
    const abandoned = Array.from({ length: 5 }, () => limiter.acquire(gone.signal).then(() => 'granted', () => 'left'));
    const live = limiter.acquire().then(() => 'granted');
    gone.abort(new Error('caller went away'));
    expect(await Promise.all(abandoned)).to.deep.equal(['left', 'left', 'left', 'left', 'left']);
    expect(limiter.queued).to.equal(1);
    // The live request gets the very next token (50 ms at 20 qps), not the sixth.
    expect(await live).to.equal('granted');
  });
});
