import { request } from 'node:http';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { MAX_REQUEST_BODY_BYTES } from '../../../src/kube/apiserver/handler.js';

// The dev API server bounds what one request may make it hold (#12.10).

function post(url: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // Streamed without Content-Length (chunked): the server must count as it reads.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('in-process API server: request limits', () => {
  let api: ApiServer;
  beforeEach(async () => (api = await startApiServer()));
  afterEach(async () => api.close());

  it('answers 413 RequestEntityTooLarge to a body over 3 MiB, without buffering it', async () => {
    const r = await post(api.url, MAX_REQUEST_BODY_BYTES + 1024 * 1024).catch((e: Error) => ({ status: 0, body: e.message }));
    // Either the Status arrives, or the connection is cut after it was sent while we were still writing.
    if (r.status !== 0) {
      expect(r.status).to.equal(413);
      expect(JSON.parse(r.body)).to.include({ reason: 'RequestEntityTooLarge', message: `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes` });
    }
    expect(api.requestLog.at(-1)).to.include({ status: 413 });
  });

  it('counts TCP connections and requests by verb', async () => {
    await fetch(`${api.url}/api/v1/namespaces/default/configmaps`);
    await fetch(`${api.url}/api/v1/namespaces/default/configmaps/x`);
    expect(api.requestsByVerb()).to.deep.equal({ list: 1, get: 1 });
    expect(api.connectionsAccepted).to.be.at.least(1);
    api.resetCounters();
    expect(api.requestsByVerb()).to.deep.equal({});
    expect(api.connectionsAccepted).to.equal(0);
  });
});
