import { expect } from 'chai';
import { formatLabelSelector } from '../../../src/routing/selector.js';

describe('formatLabelSelector', () => {
  it('renders matchLabels and every matchExpressions operator as the API server expects', () => {
    expect(
      formatLabelSelector({
        matchLabels: { app: 'web', tier: 'edge' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'team', operator: 'NotIn', values: ['x'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).to.equal('app=web,tier=edge,env in (prod,staging),team notin (x),canary,!legacy');
  });
});
