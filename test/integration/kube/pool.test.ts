import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { KubeClient, type KubeClientOptions, type RequestObservation } from '../../../src/kube/client.js';

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

  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: cert.toString('base64') }],
      users: [{ name: 'u', token: 'the-token', certData: cert.toString('base64'), keyData: key.toString('base64') }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };

  // The plugin reads its kubeconfig file without client-node; the companion's tests hand over client-node's object.
  const sources: [string, () => Promise<KubeClientOptions>][] = [
    ['a kubeconfig file (read without client-node)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pool-'));
      const file = join(dir, 'kubeconfig');
      await writeFile(file, kubeConfig().exportConfig());
      return { kubeconfig: file };
    }],
    ["client-node's KubeConfig", async () => ({ kubeConfig: kubeConfig() })],
  ];

  for (const [source, options] of sources) {
    it(`${source}: verifies the server with the kubeconfig CA, presents the client certificate and the token, and keeps one connection`, async () => {
      handshakes = 0;
      seen.length = 0;
      const observed: RequestObservation[] = [];
      const kube = new KubeClient({ ...(await options()), observer: (o) => observed.push(o) });
      try {
        for (let i = 0; i < 20; i++) {
          const svc = await kube.request<{ metadata?: { name?: string } }>({ method: 'GET', path: '/api/v1/namespaces/default/services/web' });
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
  }
});
