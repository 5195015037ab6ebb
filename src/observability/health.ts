import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

// Liveness, readiness and Prometheus metrics over plain HTTP, for kubelet probes and scrapers.

export interface HealthServerOptions {
  /** `host:port` (`[v6]:port`); an alternative to host and port. */
  address?: string;
  host?: string;
  /** 0 picks a free port (see `port` on the result). */
  port?: number;
  registry: Registry;
  /** False when the process should be restarted. */
  live: () => boolean;
  /** False until the caches have synced (and whenever the process should get no traffic). */
  ready: () => boolean;
}

export interface HealthServer {
  url: string;
  /** `host:port` actually bound. */
  address: string;
  port: number;
  close(): Promise<void>;
}

function probe(res: ServerResponse, ok: boolean): void {
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(ok ? 'ok\n' : 'not ok\n');
}

function listenAddress(options: HealthServerOptions): { host: string; port: number } {
  if (options.address !== undefined) {
    const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(options.address);
    if (!match) throw new Error(`health server address "${options.address}" is not host:port`);
    return { host: match[1] ?? (match[2] || '0.0.0.0'), port: Number(match[3]) };
  }
  return { host: options.host ?? '0.0.0.0', port: options.port ?? 0 };
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const bind = listenAddress(options);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/healthz':
      case '/livez':
        probe(res, options.live());
        return;
      case '/readyz':
        probe(res, options.ready());
        return;
      case '/metrics': {
        const body = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType });
        res.end(body);
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    address: `${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
