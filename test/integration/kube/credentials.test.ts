import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { KubeClient } from '../../../src/kube/client.js';

// Credentials the plugin's own reader leaves to client-node (an exec plugin here): KubeClient
// loads client-node for them and sends what it produces, on the same pool.

describe('KubeClient credentials that need client-node', () => {
  let server: Server;
  const auth: (string | undefined)[] = [];

  before(async () => {
    server = createServer((req, res) => {
      auth.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => server.close());

  it('Given a kubeconfig whose user is an exec plugin, Then requests carry the token it prints', async () => {
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } };
    const dir = await mkdtemp(join(tmpdir(), 'exec-credentials-'));
    const file = join(dir, 'kubeconfig');
    await writeFile(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true } }],
        users: [
          {
            name: 'u',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: process.execPath,
                args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`],
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const kube = new KubeClient({ kubeconfig: file });
    try {
      const svc = await kube.request<{ metadata: { name: string } }>({ method: 'GET', path: '/api/v1/namespaces/default/services/web' });
      expect(svc.metadata.name).to.equal('web');
    } finally {
      kube.close();
    }
    expect(auth).to.deep.equal(['Bearer from-exec']);
  });
});
