import { expect } from 'chai';
import {
  fromHeaderRoute,
  fromMirrorRoute,
  fromTarget,
  packageDefinition,
  toHeaderRoute,
  toMirrorRoute,
} from '../../../src/grpc/contract.js';
import type { SetHeaderRoute, SetMirrorRoute } from '../../../src/routing/rollout.js';

// Messages go through real protobuf encoding, so what the server sees is what a Go or
// grpcurl client would produce.
function roundTrip<T>(type: 'SetHeaderRoute' | 'SetMirrorRoute', message: object): T {
  const service = packageDefinition()['rollouts.companion.v1.TrafficRouter'] as unknown as Record<
    string,
    { requestSerialize: (m: object) => Buffer; requestDeserialize: (b: Buffer) => T }
  >;
  const method = service[type]!;
  return method.requestDeserialize(method.requestSerialize(message));
}

describe('gRPC contract mapping', () => {
  it('carries a header route through protobuf unchanged', () => {
    const header: SetHeaderRoute = {
      name: 'canary-header',
      match: [
        { headerName: 'X-Canary', headerValue: { exact: 'yes' } },
        { headerName: 'X-Team', headerValue: { prefix: 'web-' } },
        { headerName: 'X-Id', headerValue: { regex: '^[0-9]+$' } },
      ],
    };
    const req = roundTrip<{ headerRoute: Parameters<typeof fromHeaderRoute>[0] }>('SetHeaderRoute', { headerRoute: toHeaderRoute(header) });
    expect(fromHeaderRoute(req.headerRoute)).to.deep.equal(header);
  });

  it('carries a mirror route with and without a percentage', () => {
    const mirror: SetMirrorRoute = {
      name: 'canary-mirror',
      percentage: 25,
      match: [{ method: { exact: 'GET' }, path: { prefix: '/api' }, headers: { 'X-Debug': { exact: '1' } } }],
    };
    const req = roundTrip<{ mirrorRoute: Parameters<typeof fromMirrorRoute>[0] }>('SetMirrorRoute', { mirrorRoute: toMirrorRoute(mirror) });
    expect(fromMirrorRoute(req.mirrorRoute)).to.deep.equal(mirror);

    const all: SetMirrorRoute = { name: 'm', match: [{ path: { exact: '/x' } }] };
    const req2 = roundTrip<{ mirrorRoute: Parameters<typeof fromMirrorRoute>[0] }>('SetMirrorRoute', { mirrorRoute: toMirrorRoute(all) });
    expect(fromMirrorRoute(req2.mirrorRoute)).to.deep.equal(all);
  });

  it('names what is wrong with a bad rollout', () => {
    expect(() => fromTarget(undefined)).to.throw('request has no rollout (target.rollout_json is empty)');
    expect(() => fromTarget({ rolloutJson: '{nope', pluginName: '' })).to.throw(/target.rollout_json is not valid JSON/);
    expect(() => fromTarget({ rolloutJson: '{"metadata":{}}', pluginName: '' })).to.throw('target.rollout_json is not a Rollout: metadata.name is missing');
  });
});
