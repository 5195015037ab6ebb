import { expect } from 'chai';
import { GO_FIELD_TYPES, GO_TYPE, GobInterface, decodeGobStream } from '../../../src/plugin/gob/index.js';
import {
  ARGS_TYPE_BY_METHOD,
  decodeTrafficRouterArgs,
  goRolloutToKube,
  jsonKey,
  toKube,
  toKubeTime,
} from '../../../src/plugin/go-to-kube.js';
import { PLUGIN_METHODS, fixture, fixtureJson, plain } from '../../fixtures/gob/fixtures.js';

// Expected values come from the Go generator (test/fixtures/gob/gen/kube.go), which
// derives the Kubernetes JSON from the real json tags of the host's types.

interface Expected {
  serviceMethod: string;
  args: Record<string, unknown>;
}

function callArgs(name: string): unknown {
  const [header, args] = decodeGobStream(fixture(name));
  expect(header!.typeName).to.equal('Request');
  return args!.value;
}

/** A Go struct as the decoder yields it. */
function goStruct(type: string, fields: Record<string, unknown>, fieldTypes: Record<string, string> = {}) {
  Object.defineProperty(fields, GO_TYPE, { value: type });
  Object.defineProperty(fields, GO_FIELD_TYPES, { value: fieldTypes });
  return fields;
}

describe('go-to-kube: Plugin.* arguments from Go net/rpc requests', () => {
  for (const method of PLUGIN_METHODS) {
    it(`${method}: the Kubernetes JSON rollout and the call's arguments`, () => {
      const expected = fixtureJson<Expected>(`rpc-Plugin-${method}.json`);
      const got = decodeTrafficRouterArgs(method, callArgs(`rpc-Plugin-${method}.gob`));
      expect(plain(got)).to.deep.equal(expected.args);
    });
  }

  it('converts a rollout with every field the host models set', () => {
    const got = decodeTrafficRouterArgs('SetWeight', callArgs('rpc-Plugin-SetWeight-full.gob'));
    expect(plain(got)).to.deep.equal(fixtureJson<Expected>('rpc-Plugin-SetWeight-full.json').args);
    expect(got.rollout.spec!.strategy!.blueGreen).to.have.property('activeService');
    expect(got.rollout.status).to.have.property('HPAReplicas');
  });

  it('gives the same rollout when the sender ran in Asia/Kolkata: times are UTC', () => {
    const raw = callArgs('rpc-Plugin-SetWeight-kolkata.gob') as GobInterface;
    const onWire = (raw.value as { Rollout: { ObjectMeta: { CreationTimestamp: string } } }).Rollout.ObjectMeta;
    expect(onWire.CreationTimestamp).to.equal('2025-03-02T15:45:00+05:30');
    const got = decodeTrafficRouterArgs('Plugin.SetWeight', raw);
    expect(got.rollout.metadata['creationTimestamp']).to.equal('2025-03-02T10:15:00Z');
    expect(plain(got)).to.deep.equal(fixtureJson<Expected>('rpc-Plugin-SetWeight-kolkata.json').args);
    expect(plain(got)).to.deep.equal(fixtureJson<Expected>('rpc-Plugin-SetWeight.json').args);
  });

  it('decodes a rollout of more than 1 MiB', () => {
    const bytes = fixture('rpc-Plugin-SetWeight-big.gob.gz');
    expect(bytes.length).to.be.greaterThan(1 << 20);
    const got = decodeTrafficRouterArgs('SetWeight', decodeGobStream(bytes)[1]!.value);
    expect(got.rollout.metadata.annotations!['example.com/big']).to.have.length(1.5 * (1 << 20));
    expect(plain(got)).to.deep.equal(fixtureJson<Expected>('rpc-Plugin-SetWeight-big.json.gz').args);
  });

  it('leaves zero values absent: currentStepIndex 0, desiredWeight 0 as the default', () => {
    const got = decodeTrafficRouterArgs('RemoveManagedRoutes', callArgs('rpc-Plugin-RemoveManagedRoutes.gob'));
    expect(got.rollout.status).not.to.have.property('currentStepIndex');
    expect(got.rollout.status!['canary']).to.deep.include({ weights: { canary: { serviceName: 'argo-rollouts-canary-service', podTemplateHash: '7c9d8f6b5' }, stable: { weight: 100, serviceName: 'argo-rollouts-stable-service', podTemplateHash: '5f6d7c8b9' } } });
    expect(got).to.deep.include({ desiredWeight: 0, additionalDestinations: [], canaryHash: '', stableHash: '' });
  });

  it('keeps an empty pause step, turns IntOrString into a string, parses plugin configs and drops quantities', () => {
    const { rollout } = decodeTrafficRouterArgs('SetWeight', callArgs('rpc-Plugin-SetWeight.gob'));
    const canary = rollout.spec!.strategy!.canary!;
    expect(canary.steps).to.deep.equal([
      { setWeight: 10 },
      { setHeaderRoute: { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } },
      { pause: {} },
      { setWeight: 50 },
      { pause: { duration: '30s' } },
      { setWeight: 100 },
    ]);
    expect(canary.trafficRouting).to.deep.equal({
      managedRoutes: [{ name: 'canary-header' }],
      plugins: { 'argoproj-labs/gatewayAPI': { httpRoutes: [{ name: 'canary-route', useHeaderRoutes: true }], namespace: 'default' } },
    });
    const container = (rollout.spec!['template'] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    expect(container['resources']).to.deep.equal({ requests: {} });
    expect(rollout).to.include({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
    expect(rollout.metadata).to.include({ uid: '6f1c2b9e-3d4a-4e8f-9a7b-1c2d3e4f5a6b', resourceVersion: '184213', generation: 4 });
  });

  it('refuses arguments of another method, and methods without a rollout', () => {
    const header = callArgs('rpc-Plugin-SetHeaderRoute.gob');
    expect(() => decodeTrafficRouterArgs('SetMirrorRoute', header)).to.throw(
      /invalid args for Plugin.SetMirrorRoute: got SetHeaderArgs, want SetMirrorArgs/,
    );
    expect(() => decodeTrafficRouterArgs('InitPlugin', null)).to.throw(/invalid args for Plugin.InitPlugin: got nil/);
    expect(() => goRolloutToKube('x')).to.throw(/expected a Go Rollout struct/);
  });
});

describe('go-to-kube: field names and special types', () => {
  const SPECIAL = new Set(['IntOrString', 'Quantity', 'Time', 'FieldsV1', ...Object.values(ARGS_TYPE_BY_METHOD)]);

  it('maps every field of every type the host sends to its json tag', () => {
    const tags = fixtureJson<Record<string, Record<string, string>>>('json-names.json');
    const wrong: string[] = [];
    for (const [type, fields] of Object.entries(tags)) {
      if (SPECIAL.has(type)) continue;
      for (const [field, tag] of Object.entries(fields)) {
        if (jsonKey(type, field) !== tag) wrong.push(`${type}.${field}: json ${JSON.stringify(tag)}, ours ${JSON.stringify(jsonKey(type, field))}`);
      }
    }
    expect(wrong).to.deep.equal([]);
    expect(tags['RolloutTrafficRouting']).to.include({ ManagedRoutes: 'managedRoutes' });
  });

  it('turns IntOrString into a number or a string, zero included', () => {
    expect(toKube(goStruct('IntOrString', { Type: 1, StrVal: '25%' }))).to.equal('25%');
    expect(toKube(goStruct('IntOrString', { IntVal: 5 }))).to.equal(5);
    expect(toKube(goStruct('IntOrString', {}))).to.equal(0);
    expect(toKube(goStruct('IntOrString', { Type: 1 }))).to.equal('');
  });

  it('writes times as metav1.Time does: UTC, whole seconds', () => {
    expect(toKubeTime('2025-03-02T15:45:00+05:30')).to.equal('2025-03-02T10:15:00Z');
    expect(toKubeTime('2024-02-29T23:59:59.999999999Z')).to.equal('2024-02-29T23:59:59Z');
    const meta = goStruct('ObjectMeta', { CreationTimestamp: '2025-01-01T05:30:00+05:30' }, { CreationTimestamp: 'Time' });
    expect(toKube(meta)).to.deep.equal({ creationTimestamp: '2025-01-01T00:00:00Z' });
  });

  it('inlines embedded structs, skips json:"-" fields, keeps odd map keys as keys', () => {
    const probe = goStruct('Probe', { ProbeHandler: goStruct('ProbeHandler', { HTTPGet: goStruct('HTTPGetAction', { Path: '/' }) }), PeriodSeconds: 3 });
    expect(toKube(probe)).to.deep.equal({ httpGet: { path: '/' }, periodSeconds: 3 });
    expect(toKube(goStruct('RolloutSpec', { TemplateResolvedFromRef: true, Paused: true }))).to.deep.equal({ paused: true });
    const labels = toKube(new Map([['__proto__', 'x']])) as Record<string, unknown>;
    expect(Object.keys(labels)).to.deep.equal(['__proto__']);
    expect(Object.getPrototypeOf(labels)).to.equal(Object.prototype);
  });

  it('parses json.RawMessage and FieldsV1 bytes, and writes other bytes as base64 like encoding/json', () => {
    expect(toKube(new TextEncoder().encode('{"a":[1]}'))).to.deep.equal({ a: [1] });
    expect(toKube(goStruct('FieldsV1', { Raw: new TextEncoder().encode('{"f:spec":{}}') }))).to.deep.equal({ 'f:spec': {} });
    expect(toKube(Uint8Array.of(0xff, 0))).to.equal('/wA=');
  });
});
