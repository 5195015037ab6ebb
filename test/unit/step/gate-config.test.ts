import { expect } from 'chai';
import { parseGoDuration } from '../../../src/step/duration.js';
import { parseGateConfig } from '../../../src/step/gate.js';

// The gate's config as users write it in `steps[].plugin.config`.

const self = { namespace: 'shop', name: 'frontend' };
const parse = (config: unknown) => parseGateConfig(config, self);

describe('lockstep gate config', () => {
  it('takes "name" in the caller\'s namespace and "namespace/name" elsewhere; the caller may be left out', () => {
    const r = parse({ gate: 'release-42', members: ['backend', 'queues/worker'], timeout: '1h30m' });
    expect(r).to.deep.equal({
      config: {
        gate: 'release-42',
        members: [self, { namespace: 'shop', name: 'backend' }, { namespace: 'queues', name: 'worker' }],
        timeoutMs: 90 * 60_000,
        abortWithMembers: true,
        align: true,
      },
    });
  });

  it('names what is wrong: missing config, unknown key, bad names, a gate of one, non-boolean switches', () => {
    const error = (config: unknown) => (parse(config) as { error?: string }).error;
    expect(error(undefined)).to.match(/^shop\/frontend: the gate step has no config/);
    expect(error({ gate: 'g', members: ['backend'], abortWithMember: false })).to.equal(
      'shop/frontend: config has an unknown key "abortWithMember" (known: gate, members, timeout, abortWithMembers, align)',
    );
    expect(error({ gate: 'g', members: 'backend' })).to.match(/config.members must be a list/);
    expect(error({ gate: 'g', members: ['Back_End'] })).to.equal(
      'shop/frontend: config.members: "Back_End" is not a Rollout name ("name" or "namespace/name", lower-case DNS names)',
    );
    expect(error({ gate: 'g', members: ['a/b/c'] })).to.match(/"a\/b\/c" is not a Rollout name/);
    expect(error({ gate: 'g', members: ['frontend'] })).to.match(/names no Rollout besides shop\/frontend itself/);
    expect(error({ gate: 'g', members: ['backend', 'shop/backend'] })).to.equal('shop/frontend: config.members lists shop/backend twice');
    expect(error({ gate: 'g', members: ['backend'], timeout: '0s' })).to.match(/config.timeout "0s" is not a positive duration/);
    expect(error({ gate: 'g', members: ['backend'], timeout: 900 })).to.match(/config.timeout 900 is not a positive duration/);
    expect(error({ gate: 'g', members: ['backend'], align: 'yes' })).to.equal('shop/frontend: config.align must be true or false, got "yes"');
  });

  it('reads Go durations', () => {
    expect(['90s', '15m', '1h30m', '1.5h', '500ms', '2h0m1s'].map(parseGoDuration)).to.deep.equal([90_000, 900_000, 5_400_000, 5_400_000, 500, 7_201_000]);
    expect(['15', '15 minutes', '', 'm', '1d'].map(parseGoDuration)).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
  });
});
