import { expect } from 'chai';

import { RESOURCES } from '../../../src/kube/apiserver/resources.js';
import { parseFieldSelector, parseLabelSelector } from '../../../src/kube/apiserver/selectors.js';
import { StatusError } from '../../../src/kube/apiserver/status.js';
import type { KubeObject } from '../../../src/kube/apiserver/types.js';

const obj = (labels: Record<string, string>, name = 'n'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels } });
const pods = RESOURCES.find((r) => r.plural === 'pods')!;

describe('selectors', () => {
  it('matches the label selector grammar', () => {
    const o = obj({ app: 'web', 'example.com/tier': 'front' });
    const cases: [string, boolean][] = [
      ['', true],
      ['app=web', true],
      ['app==web', true],
      ['app!=web', false],
      ['missing!=x', true],
      ['app in (web,api)', true],
      ['app notin (web)', false],
      ['missing notin (web)', true],
      ['example.com/tier', true],
      ['!example.com/tier', false],
      ['app=web, example.com/tier in (front)', true],
      ['app=web,missing', false],
    ];
    for (const [sel, want] of cases) expect(parseLabelSelector(sel)(o), sel).to.equal(want);
  });

  it('rejects a selector it cannot parse with 400', () => {
    expect(() => parseLabelSelector('app=(')).to.throw(StatusError).with.nested.property('status.code', 400);
  });

  it('accepts only supported field selectors', () => {
    expect(parseFieldSelector('metadata.name=n,metadata.namespace==ns', pods)(obj({}))).to.equal(true);
    expect(parseFieldSelector('metadata.name!=n', pods)(obj({}))).to.equal(false);
    expect(parseFieldSelector('status.phase=Running', pods)(obj({}))).to.equal(false);
    expect(() => parseFieldSelector('spec.whatever=x', pods)).to.throw(StatusError, /field label not supported/);
  });
});
