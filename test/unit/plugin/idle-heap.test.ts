import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { IdleHeapRelease } from '../../../src/plugin/idle-heap.js';

// Once the controller stops calling, the plugin gives back the heap a busy spell committed,
// without waiting the 10–25 s V8's own memory reducer takes (src/plugin/idle-heap.ts).

const MB = 1024 * 1024;
const IDLE_MS = 20;

/**
 * A release over a heap whose size the test sets, counting collections: the heap has just
 * grown from 10 to 13 MB (past the 2 MB threshold) and no call has come yet.
 */
function afterBusySpell() {
  const heap = { size: 10 * MB, collections: 0, onCollect: () => {} };
  const release = new IdleHeapRelease({
    idleMs: IDLE_MS,
    growthBytes: 2 * MB,
    heapSize: () => heap.size,
    collect: () => {
      heap.collections++;
      heap.onCollect();
    },
  });
  heap.size = 13 * MB;
  return { heap, release };
}

const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
};
const idleFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idle heap release', () => {
  it('Given calls grew the heap past the threshold, When no call comes for the idle time, Then it collects twice', async () => {
    const { heap, release } = afterBusySpell();
    release.touch();
    await until(() => heap.collections === 2);
    release.stop();
  });

  it('Given the heap has not grown past the threshold since the last release, Then an idle spell collects nothing', async () => {
    const { heap, release } = afterBusySpell();
    release.touch();
    await until(() => heap.collections === 2);
    heap.size = 14 * MB; // +1 MB since the release
    release.touch();
    await idleFor(IDLE_MS * 5);
    expect(heap.collections).to.equal(2);
    release.stop();
  });

  it('Given a call arrives between the two collections, Then the second waits for the next idle spell', async () => {
    const { heap, release } = afterBusySpell();
    heap.onCollect = () => {
      if (heap.collections === 1) release.touch();
    };
    release.touch();
    // The touch cancelled the second collection and did not count the first as a release:
    // the next idle spell collects twice again.
    await until(() => heap.collections === 3);
    release.stop();
  });

  it('Given stop, Then a pending release never runs', async () => {
    const { heap, release } = afterBusySpell();
    release.touch();
    release.stop();
    await idleFor(IDLE_MS * 5);
    expect(heap.collections).to.equal(0);
  });

  it("Given V8's own collector, Then garbage is collected and --expose-gc is off again afterwards", async () => {
    let collected = false;
    const garbage = new WeakRef({ payload: 'x'.repeat(1000) });
    const release = new IdleHeapRelease({ idleMs: 1, growthBytes: -Infinity, heapSize: () => {
      collected ||= garbage.deref() === undefined;
      return 0;
    } });
    release.touch();
    await until(() => collected);
    release.stop();
    expect(runInNewContext('typeof gc')).to.equal('undefined');
  });
});
