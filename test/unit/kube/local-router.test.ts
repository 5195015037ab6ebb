import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { KubeClient } from '../../../src/kube/client.js';
import { kubeConfigForServer } from '../../../src/kube/kubeconfig.js';
import { ROUTER_CACHE_LIMIT, localRouters } from '../../../src/kube/local-router.js';

// The plugin name of a gRPC request picks a router; names come from callers, so the routers
// kept for them must not grow with every new name (#12.4).

describe('localRouters: routers per plugin name', () => {
  const client = new KubeClient({ kubeConfig: kubeConfigForServer('http://127.0.0.1:1') });
  after(() => client.close());

  it('keeps the routers of recently used names and forgets the rest', () => {
    const routerFor = localRouters({ client, logger: silentLogger });
    const first = routerFor('team-a/gateway');
    expect(routerFor('team-a/gateway')).to.equal(first);
    for (let i = 0; i < 10_000; i++) routerFor(`junk-${i}`);
    // The oldest name fell out: asking again builds a new router (same behaviour, fresh object).
    expect(routerFor('team-a/gateway')).to.not.equal(first);
    const recent = routerFor(`junk-${10_000 - 1}`);
    expect(routerFor(`junk-${10_000 - 1}`)).to.equal(recent);
    expect(ROUTER_CACHE_LIMIT).to.be.at.most(100);
  });
});
