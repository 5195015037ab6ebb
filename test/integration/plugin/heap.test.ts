import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.js';

// The plugin sizes its heap at run time (src/plugin/heap.ts), not with node flags: once
// settled, its young generation keeps the size it has however much the process allocates.
// Once the controller stops calling, it gives back what a busy spell committed
// (src/plugin/idle-heap.ts).

/** MiB of young generation before and after allocating ~100 MB of short-lived objects, in a fresh node. */
function youngGenerationMiB(settle: boolean): { before: number; after: number } {
  const script = `
    import { settleHeap } from ${JSON.stringify(join(ROOT, 'src/plugin/heap.ts'))};
    import { getHeapSpaceStatistics } from 'node:v8';
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    if (${settle}) settleHeap();
    const before = young();
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
    process.stdout.write(JSON.stringify({ before, after: young() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { before: number; after: number };
}

describe('plugin heap sizing', function () {
  this.timeout(60_000);

  it('Given settleHeap, When the process allocates what thousands of calls do, Then the young generation keeps its size', () => {
    const { before, after } = youngGenerationMiB(true);
    expect(after).to.equal(before);
    expect(after).to.be.at.most(4);
  });

  it('Given V8\'s defaults, the same allocations grow it many times over (what settleHeap prevents)', () => {
    const { before, after } = youngGenerationMiB(false);
    expect(after).to.be.greaterThan(2 * before);
  });
});

/** Whether V8 chose `work` for TurboFan after it ran `rounds` × 1 000 loop iterations, in a fresh node. */
function optimized(settle: boolean, rounds: number): boolean {
  const script = `
    import { settleHeap } from ${JSON.stringify(join(ROOT, 'src/plugin/heap.ts'))};
    if (${settle}) settleHeap();
    function work(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * 31) % 7; return s; }
    for (let r = 0; r < ${rounds}; r++) work(1000);`;
  const trace = execFileSync(process.execPath, ['--trace-opt', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return /marking .*<JSFunction work\b.*TURBOFAN/.test(trace);
}

describe('plugin optimizing compiler', function () {
  this.timeout(60_000);

  it('Given V8\'s defaults, a loop that runs briefly, as start-up code does, goes to TurboFan', () => {
    expect(optimized(false, 4)).to.equal(true);
  });

  it('Given settleHeap, When the same loop runs as briefly, Then it stays out of TurboFan (no compiler memory for code that never runs again)', () => {
    expect(optimized(true, 4)).to.equal(false);
  });

  it('Given settleHeap, When the loop stays hot, Then it goes to TurboFan still', () => {
    expect(optimized(true, 100)).to.equal(true);
  });
});

/** MiB the old generation has committed after a busy spell and once the idle release has run, in a fresh node. */
function committedMiB(): { busy: number; idle: number } {
  const script = `
    import { IdleHeapRelease } from ${JSON.stringify(join(ROOT, 'src/plugin/idle-heap.ts'))};
    import { getHeapSpaceStatistics } from 'node:v8';
    const committed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size / 1048576;
    let reads = 0;
    let released;
    const done = new Promise((resolve) => (released = resolve));
    // Read at construction, before collecting and after the second collection.
    const release = new IdleHeapRelease({ idleMs: 50, heapSize: () => {
      if (++reads === 3) setImmediate(released);
      return committed() * 1048576;
    } });
    let keep = [];
    for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i, a: [i] });
    keep = keep.filter((_, i) => i % 50 === 0);
    const busy = committed();
    release.touch();
    const alive = setInterval(() => {}, 1000); // the release's timers are unref'd
    await done;
    clearInterval(alive);
    process.stdout.write(JSON.stringify({ busy, idle: committed() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { busy: number; idle: number };
}

describe('plugin idle heap release', function () {
  this.timeout(60_000);

  it('Given a busy spell left most of the old generation garbage, When no call comes for the idle time, Then the heap gives its pages back', () => {
    const { busy, idle } = committedMiB();
    expect(busy).to.be.greaterThan(20);
    expect(idle).to.be.lessThan(busy / 2);
  });
});
