import { expect } from 'chai';

import { decodeProtobuf } from '../../../src/kube/apiserver/protobuf.js';
import { StatusError } from '../../../src/kube/apiserver/status.js';
import { startHarness } from './helpers.js';

// A minimal encoder for the fixtures: only length-delimited fields and small varints.
const varint = (n: number) => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
};
const ld = (field: number, value: Buffer | string) => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
};
const entry = (field: number, key: string, value: Buffer | string) => ld(field, Buffer.concat([ld(1, key), ld(2, value)]));
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from('k8s\0', 'binary'), ld(1, Buffer.concat([ld(1, apiVersion), ld(2, kind)])), ld(2, raw)]);

const configMap = envelope(
  'v1',
  'ConfigMap',
  Buffer.concat([
    ld(1, Buffer.concat([ld(1, 'settings'), ld(3, 'default'), entry(11, 'app', 'shop')])),
    entry(2, 'mode', 'blue'),
    entry(3, 'blob', Buffer.from([0xff, 0x00])),
    Buffer.from([(4 << 3) | 0, 1]),
  ]),
);

describe('protobuf: kubectl create namespace|configmap bodies, /openapi/v2', () => {
  it('decodes a ConfigMap', () => {
    expect(decodeProtobuf(configMap)).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'default', labels: { app: 'shop' } },
      data: { mode: 'blue' },
      binaryData: { blob: Buffer.from([0xff, 0x00]).toString('base64') },
      immutable: true,
    });
  });

  it('does not claim to read other kinds, and rejects a body without the envelope', () => {
    expect(decodeProtobuf(envelope('v1', 'Service', ld(1, ld(1, 's'))))).to.equal(undefined);
    expect(() => decodeProtobuf(Buffer.from('{}'))).to.throw(StatusError);
  });

  it('creates from a protobuf body over HTTP, answering JSON', async () => {
    const h = await startHarness();
    try {
      const res = await fetch(`${h.server.url}/api/v1/namespaces/default/configmaps`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf,application/json' },
        body: configMap,
      });
      expect(res.status).to.equal(201);
      expect(res.headers.get('content-type')).to.equal('application/json');
      expect((await h.core.readNamespacedConfigMap({ name: 'settings', namespace: 'default' })).data).to.deep.equal({ mode: 'blue' });
    } finally {
      await h.server.close();
    }
  });

  it('serves /openapi/v2 as a protobuf openapi.v2.Document when asked (kubectl 1.20), JSON otherwise', async () => {
    const h = await startHarness();
    try {
      const openApiV2 = (accept: string) => fetch(`${h.server.url}/openapi/v2`, { headers: { Accept: accept } });
      const pb = await openApiV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
      expect(pb.status).to.equal(200);
      expect(pb.headers.get('content-type')).to.equal('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
      // swagger = 1, info = 2 (title = 1, version = 2), paths = 8, definitions = 9
      expect(Buffer.from(await pb.arrayBuffer())).to.deep.equal(
        Buffer.concat([ld(1, '2.0'), ld(2, Buffer.concat([ld(1, 'Kubernetes'), ld(2, 'v1.32.0-rollouts-companion')])), ld(8, ''), ld(9, '')]),
      );
      const json = await openApiV2('application/json');
      expect(json.headers.get('content-type')).to.equal('application/json');
      expect(await json.json()).to.deep.equal({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-rollouts-companion' }, paths: {}, definitions: {} });
    } finally {
      await h.server.close();
    }
  });
});
