import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { GobError } from '../../../src/plugin/gob/index.js';
import { warmUpCalls, warmUpErrors } from '../../../src/plugin/warm-up.js';

// The plugin serves its bundle's recorded first reconcile to itself once, so that the
// controller's own first Rollout runs code V8 has seen (src/plugin/warm-up.ts).

const RECORDED = readFileSync(join(import.meta.dirname, '../../../scripts/code-cache/calls.gob'));

describe('plugin warm-up', () => {
  it('Given the recorded first reconcile, Then every call in it is decoded, converted and answered', async () => {
    expect(await warmUpCalls(RECORDED)).to.equal(5);
  });

  it('Given bytes that are not net/rpc over gob, Then it says so instead of warming nothing', async () => {
    await warmUpCalls(Buffer.from('not gob at all')).then(
      () => expect.fail('resolved'),
      (err: unknown) => expect(err).to.be.instanceOf(GobError),
    );
    await warmUpCalls(new Uint8Array(0)).then(
      () => expect.fail('resolved'),
      (err: Error) => expect(err.message).to.equal(warmUpErrors.noCalls()),
    );
  });
});
