import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.js';

// The plugin sizes its heap at run time (src/plugin/heap.ts), not with node flags: once
// settled, its young generation keeps the size it has however much the process allocates.

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
