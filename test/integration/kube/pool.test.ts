import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { KubeClient, type RequestObservation } from '../../../src/kube/client.js';

// The connection pool on TLS, as against a real cluster: built once from the kubeconfig's TLS
// material (CA, client certificate), credentials applied to every request, one connection for
// many requests (each new connection would be a TLS handshake).

const TLS = join(import.meta.dirname, '..', '..', 'fixtures', 'tls');
const cert = readFileSync(join(TLS, 'cert.pem'));
const key = readFileSync(join(TLS, 'key.pem'));

describe('KubeClient pool over TLS', () => {
  let server: Server;
  let handshakes = 0;
  const seen: { auth?: string; clientCert: boolean; path?: string }[] = [];

  before(async () => {
    server = createServer({ cert, key, ca: cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      seen.push({ auth: req.headers.authorization, clientCert: socket.authorized, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' } }));
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => server.close());

  it('verifies the server with the kubeconfig CA, presents the client certificate and the token, and keeps one connection', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: cert.toString('base64') }],
      users: [{ name: 'u', token: 'the-token', certData: cert.toString('base64'), keyData: key.toString('base64') }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const observed: RequestObservation[] = [];
    const kube = new KubeClient({ kubeConfig: kc, observer: (o) => observed.push(o) });
    try {
      for (let i = 0; i < 20; i++) {
        const svc = await kube.call(() => kube.core.readNamespacedService({ namespace: 'default', name: 'web' }));
        expect(svc.metadata?.name).to.equal('web');
      }
    } finally {
      kube.close();
    }
    expect(handshakes).to.equal(1);
    expect(seen).to.have.length(20);
    expect(seen.every((s) => s.auth === 'Bearer the-token' && s.clientCert)).to.equal(true);
    expect(observed[0]).to.include({ verb: 'get', resource: 'services', code: 200 });
  });
});
