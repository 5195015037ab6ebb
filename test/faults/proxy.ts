import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A fault-injecting HTTP proxy to put between a client and the in-process API server: each
// request is matched against the rules (first match wins, each rule fires `times` times) and is
// then truncated, left unanswered, delayed, reset, or answered with an error status instead of
// being forwarded as it is.

export const FaultAction = {
  /** Forward; send the status line, headers (full Content-Length) and half the body, then hold the connection open. */
  Truncate: 'truncate',
  /** Never forward, never answer; the connection stays open. */
  Stall: 'stall',
  /** Forward after `delayMs`, whether or not the client is still there (a request stuck in a network path). */
  Delay: 'delay',
  /** Close the client's connection without answering. */
  Reset: 'reset',
  /** Answer `status` without forwarding. */
  Status: 'status',
} as const;
export type FaultAction = (typeof FaultAction)[keyof typeof FaultAction];

export interface ProxyRule {
  action: FaultAction;
  method?: string;
  /** Matched against the URL path. */
  path?: RegExp;
  times?: number;
  delayMs?: number;
  status?: number;
}

export interface FaultProxy {
  url: string;
  inject(rule: ProxyRule): void;
  clear(): void;
  /** Requests that reached the upstream server, as "METHOD path". */
  readonly forwarded: string[];
  /** Delayed requests still to be forwarded. */
  pendingDelays(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let rules: { rule: ProxyRule; left: number }[] = [];
  const forwarded: string[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let delays = 0;

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      forwarded.push(`${req.method} ${req.url}`);
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry = rules.find((e) => e.left > 0 && (!e.rule.method || e.rule.method === req.method) && (!e.rule.path || e.rule.path.test(path)));
    if (entry) entry.left--;
    const rule = entry?.rule;
    const reply = (r: { status: number; headers: IncomingMessage['headers']; body: Buffer }) => {
      if (res.destroyed) return;
      res.writeHead(r.status, { 'content-type': r.headers['content-type'] ?? 'application/json', 'content-length': r.body.length });
      res.end(r.body);
    };
    try {
      switch (rule?.action) {
        case FaultAction.Stall:
          held.add(res);
          return;
        case FaultAction.Reset:
          req.socket.destroy();
          return;
        case FaultAction.Status: {
          const status = rule.status ?? 500;
          const text = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected ${status}`, reason: 'InternalError', code: status });
          return reply({ status, headers: {}, body: Buffer.from(text) });
        }
        case FaultAction.Delay: {
          delays++;
          await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
          delays--;
          return reply(await forward(req, body));
        }
        case FaultAction.Truncate: {
          const r = await forward(req, body);
          res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': r.body.length });
          res.write(r.body.subarray(0, Math.floor(r.body.length / 2)));
          held.add(res);
          return;
        }
        default:
          return reply(await forward(req, body));
      }
    } catch {
      req.socket.destroy();
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (rule) => void rules.push({ rule, left: rule.times ?? 1 }),
    clear: () => {
      rules = [];
    },
    forwarded,
    pendingDelays: () => delays,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      for (const r of held) r.destroy();
      agent.destroy();
      await closed;
    },
  };
}
