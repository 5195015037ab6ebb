import { expect } from 'chai';
import { RateLimiter } from '../../../src/kube/rate-limit.js';

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
