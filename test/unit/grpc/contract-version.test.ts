import { expect } from 'chai';
import { contractCompatible } from '../../../src/version.js';

describe('contract version compatibility (plugin needs → companion serves)', () => {
  it('accepts the same major with the same or a newer minor', () => {
    expect(contractCompatible('1.2', '1.2')).to.equal(true);
    expect(contractCompatible('1.2', '1.10')).to.equal(true);
  });

  it('refuses an older minor, another major, and anything that is not MAJOR.MINOR', () => {
    expect(contractCompatible('1.2', '1.1')).to.equal(false);
    expect(contractCompatible('1.2', '2.2')).to.equal(false);
    expect(contractCompatible('2.0', '1.9')).to.equal(false);
    expect(contractCompatible('1.0', '')).to.equal(false);
    expect(contractCompatible('1.0', '1')).to.equal(false);
    expect(contractCompatible('1.0', 'v1.0')).to.equal(false);
  });
});
