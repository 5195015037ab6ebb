import { expect } from 'chai';
import type { GobInterface } from '../../../src/plugin/gob/index.js';
import { decodeTrafficRouterArgs } from '../../../src/plugin/go-to-kube.js';
import { fixture } from '../../fixtures/gob/fixtures.js';
import { netRpcMessages, yamuxFrames } from '../../support/wiretap.js';

// A real conversation: the go-plugin host driving its Go stub plugin through wiretap
// (TZ=Asia/Kolkata, scenario test/fixtures/gob/gen/wiretap-scenario.json). The capture is
// raw socket bytes: yamux frames carrying net/rpc streams. Decoding it frame by frame, as
// the bytes arrived, must give every call and reply.

describe('gob: a wiretap capture of the go-plugin host and its Go stub plugin', () => {
  const frames = yamuxFrames(fixture('wiretap/host-stubplugin.raw'));
  const broker = Math.max(...frames.map((f) => f.stream));

  it('decodes the control stream: Dispense, Ping', () => {
    const calls = netRpcMessages(frames, 0, 1);
    expect(calls.map((c) => c.header.ServiceMethod)).to.include.members(['Dispenser.Dispense', 'Control.Ping']);
    expect(calls.find((c) => c.header.ServiceMethod === 'Dispenser.Dispense')!.body).to.equal('RpcTrafficRouterPlugin');
    expect(calls.find((c) => c.header.ServiceMethod === 'Control.Ping')!.body).to.equal(true);
    const replies = netRpcMessages(frames, 1, 1);
    expect(replies.find((r) => r.header.ServiceMethod === 'Control.Ping')!.body).to.deep.equal({});
    expect(replies.find((r) => r.header.ServiceMethod === 'Dispenser.Dispense')!.body).to.be.a('number');
  });

  it('decodes every Plugin.* call into the TrafficRouterApi arguments, times from +05:30 as UTC', () => {
    const calls = netRpcMessages(frames, 0, broker);
    expect(calls.map((c) => c.header.ServiceMethod)).to.deep.equal([
      'Plugin.InitPlugin',
      'Plugin.Type',
      'Plugin.RemoveManagedRoutes',
      'Plugin.UpdateHash',
      'Plugin.SetWeight',
      'Plugin.SetWeight',
      'Plugin.VerifyWeight',
      'Plugin.SetHeaderRoute',
      'Plugin.SetMirrorRoute',
      'Plugin.SetWeight',
      'Plugin.VerifyWeight',
      'Plugin.VerifyWeight',
      'Plugin.VerifyWeight',
    ]);
    expect(calls[0]!.body).to.equal(null);
    const args = calls.slice(2).map((c) => decodeTrafficRouterArgs(c.header.ServiceMethod!, c.body));
    for (const a of args) {
      expect(a.rollout.metadata).to.include({ name: 'rollouts-demo', namespace: 'default', creationTimestamp: '2025-03-02T10:15:00Z' });
      expect(a.rollout.spec!.strategy!.canary!.trafficRouting!.plugins).to.deep.equal({
        'argoproj-labs/gatewayAPI': { httpRoutes: [{ name: 'canary-route', useHeaderRoutes: true }], namespace: 'default' },
      });
    }
    expect(args[1]).to.deep.include({
      canaryHash: '7c9d8f6b5',
      stableHash: '5f6d7c8b9',
      additionalDestinations: [{ weight: 5, serviceName: 'exp-svc', podTemplateHash: 'abc123' }],
    });
    expect(args[2]!.desiredWeight, 'SetWeight 0 arrives absent').to.equal(0);
    expect(args[2]!.rollout.status).not.to.have.property('currentStepIndex');
    expect(args[3]!.desiredWeight).to.equal(10);
    expect(args[3]!.rollout.status!.currentStepIndex).to.equal(1);
    expect(args[5]!.headerRoute).to.deep.equal({
      name: 'canary-header',
      match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }],
    });
    expect(args[6]!.mirrorRoute).to.deep.equal({
      name: 'mirror-route',
      percentage: 40,
      match: [{ method: { exact: 'GET' }, path: { prefix: '/api' }, headers: { 'x-mirror': { regex: 'on|yes' } } }],
    });
    expect((calls[7]!.body as GobInterface).name).to.equal('SetHeaderArgs');
    const onWire = (calls[2]!.body as GobInterface).value as { Rollout: { ObjectMeta: { CreationTimestamp: string } } };
    expect(onWire.Rollout.ObjectMeta.CreationTimestamp, 'the host ran with TZ=Asia/Kolkata').to.equal('2025-03-02T15:45:00+05:30');
  });

  it('decodes the replies the host printed', () => {
    const replies = netRpcMessages(frames, 1, broker);
    const bySeq = new Map(replies.map((r) => [r.header.Seq ?? 0, r]));
    expect(bySeq.get(1)!.body).to.equal('StubTrafficRouter');
    expect(bySeq.get(6)!.body).to.deep.equal({ Verified: 1, Err: {} });
    expect(bySeq.get(9)!.body).to.deep.equal({ ErrorString: 'injected failure in SetWeight' });
    expect(replies.filter((r) => r.header.Error)).to.deep.equal([]);
    expect(replies).to.have.length(13);
  });
});
