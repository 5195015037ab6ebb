import { expect } from 'chai';
import { WorkQueue } from '../../../src/canary/workqueue.js';

const until = async (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('canary work queue', () => {
  it('Given a key added several times before it runs, Then it is handled once', async () => {
    const handled: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue(
      async (key) => {
        if (key === 'blocker') await gate.promise;
        handled.push(key);
      },
      { concurrency: 1 },
    );
    queue.add('blocker');
    for (let i = 0; i < 5; i += 1) queue.add('demo/pod-a');
    gate.resolve();
    await until(() => queue.size === 0, 'the queue to drain');
    expect(handled).to.deep.equal(['blocker', 'demo/pod-a']);
    await queue.shutdown();
  });

  it('Given a key added while it is being handled, Then it runs again afterwards, never twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gate = deferred();
    const queue = new WorkQueue(
      async () => {
        running += 1;
        runs += 1;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await gate.promise;
        running -= 1;
      },
      { concurrency: 4 },
    );
    queue.add('demo/pod-a');
    await until(() => runs === 1, 'the first run');
    queue.add('demo/pod-a');
    queue.add('demo/pod-a');
    gate.resolve();
    await until(() => runs === 2 && queue.size === 0, 'the second run');
    expect(maxRunning).to.equal(1);
    await queue.shutdown();
  });

  it('Given many keys, Then at most `concurrency` run at once and all of them in parallel up to it', async () => {
    let running = 0;
    let maxRunning = 0;
    const gate = deferred();
    const queue = new WorkQueue(
      async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await gate.promise;
        running -= 1;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 10; i += 1) queue.add(`demo/pod-${i}`);
    await until(() => running === 3, 'three handlers running');
    gate.resolve();
    await until(() => queue.size === 0, 'the queue to drain');
    expect(maxRunning).to.equal(3);
    await queue.shutdown();
  });

  it('Given a failing key, Then it is retried with growing, capped back-off until it succeeds', async () => {
    let attempts = 0;
    const delays: number[] = [];
    const queue = new WorkQueue(
      async () => {
        attempts += 1;
        if (attempts < 5) throw new Error('HTTP 500');
      },
      { concurrency: 1, baseDelayMs: 5, maxDelayMs: 20, onError: (_key, _error, _failures, retryInMs) => delays.push(retryInMs) },
    );
    queue.add('demo/pod-a');
    await until(() => attempts === 5 && queue.size === 0, 'the fifth attempt');
    expect(delays).to.deep.equal([5, 10, 20, 20]);
    expect(queue.failuresOf('demo/pod-a')).to.equal(0);
    await queue.shutdown();
  });

  it('Given shutdown, Then waiting and scheduled keys are dropped and running ones finish', async () => {
    const handled: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue(
      async (key) => {
        if (key === 'running') await gate.promise;
        handled.push(key);
      },
      { concurrency: 1 },
    );
    queue.add('running');
    queue.add('waiting');
    queue.addAfter('later', 10);
    const done = queue.shutdown();
    gate.resolve();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(handled).to.deep.equal(['running']);
  });
});
