import { expect } from 'chai';
import { parseRouterConfig } from '../../../src/routing/config.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import { FakeRouteStore } from './fake-store.js';
import { httpRoute, PLUGIN, rollout, svc } from './fixtures.js';

// Which Services a ping-pong Rollout splits between, read the way Argo Rollouts reads them.

const PING = 'web-ping';
const PONG = 'web-pong';

function pingPong(stablePingPong?: string): Rollout {
  const ro = rollout({ httpRoute: 'canary-route', pinnedRoutes: { stable: ['always-old-version'], canary: ['always-new-version'] } }, [], 'x');
  ro.spec!.strategy!.canary!.pingPong = { pingService: PING, pongService: PONG };
  if (stablePingPong) ro.status = { canary: { stablePingPong } };
  return ro;
}

describe('routing: ping-pong Services', () => {
  it('takes stable and canary from status.canary.stablePingPong, over stableService/canaryService', () => {
    expect(parseRouterConfig(pingPong('ping'), PLUGIN).services).to.deep.include({ stable: PING, canary: PONG });
    expect(parseRouterConfig(pingPong('pong'), PLUGIN).services).to.deep.include({ stable: PONG, canary: PING });
    // Argo's IsStablePing: only "ping" means ping.
    expect(parseRouterConfig(pingPong(), PLUGIN).services).to.deep.include({ stable: PONG, canary: PING });
  });

  it('names a missing or invalid ping/pong Service', () => {
    const ro = pingPong('ping');
    ro.spec!.strategy!.canary!.pingPong = { pingService: PING };
    expect(() => parseRouterConfig(ro, PLUGIN)).to.throw('rollout default/x: spec.strategy.canary.pingPong.pongService must be a non-empty string');
    ro.spec!.strategy!.canary!.pingPong = { pingService: PING, pongService: 'Pong' };
    expect(() => parseRouterConfig(ro, PLUGIN)).to.throw('rollout default/x: spec.strategy.canary.pingPong.pongService "Pong" is not a valid Service name');
  });

  it('does not rename a pinned route that names both Services: that is a broken pin, not a role flip', async () => {
    const store = new FakeRouteStore(
      [
        httpRoute('canary-route', 'app.example.com', [svc(PING), svc(PONG)]),
        httpRoute('always-old-version', 'old.example.com', [svc(PING)]),
        httpRoute('always-new-version', 'new.example.com', [svc(PING), svc(PONG)]),
      ],
      [`default/${PING}`, `default/${PONG}`],
    );
    const router = new TrafficRouter({ store });
    const { error } = await router.setWeight(pingPong('ping'), 10, []);
    expect(error).to.match(/^refusing to set canary weight 10: pinned route HTTPRoute default\/always-new-version must reference only the canary Service "web-pong"/);
    expect(store.writes).to.deep.equal([]);
  });
});
