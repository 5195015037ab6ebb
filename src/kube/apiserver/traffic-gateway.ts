import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteObject } from '../../routing/route-store.js';
import { selectRule, type BackendId, type Decision } from '../../routing/traffic/index.js';
import * as msg from './gateway-errors.js';

// Dev mode's data plane: a local HTTP port that routes every request through the request-matching
// model over the routes in the embedded API server (read per request, so each SetWeight shows at
// once) and proxies it to one of two built-in backends, "stable" and "canary", which answer with
// their name. The Rollouts in the server say which Service plays which role.

export const Role = { Stable: 'stable', Canary: 'canary' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** What the gateway reads from the embedded API server. */
export interface GatewaySource {
  list(apiVersion: string, kind: string, namespace?: string): { metadata: { name?: string; namespace?: string } }[];
}

export interface TrafficGatewayOptions {
  source: GatewaySource;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** [0, 1): which backend a request goes to, and whether it is mirrored. Default Math.random. */
  random?: () => number;
}

export interface TrafficGateway {
  /** http://HOST:PORT */
  readonly url: string;
  /** Requests each built-in backend received as mirror copies. */
  readonly mirrored: Record<Role, number>;
  close(): Promise<void>;
}

/** Response header naming the route and rule that took the request. */
export const RULE_HEADER = 'x-rollouts-companion-rule';
/** Response header listing the backends the request was mirrored to. */
export const MIRRORED_HEADER = 'x-rollouts-companion-mirrored-to';

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function rolesOf(source: GatewaySource): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const r of source.list('argoproj.io/v1alpha1', 'Rollout') as { metadata: { namespace?: string }; spec?: { strategy?: { canary?: { stableService?: string; canaryService?: string } } } }[]) {
    const ns = r.metadata.namespace ?? 'default';
    const canary = r.spec?.strategy?.canary;
    if (canary?.stableService) roles.set(`${ns}/${canary.stableService}`, Role.Stable);
    if (canary?.canaryService) roles.set(`${ns}/${canary.canaryService}`, Role.Canary);
  }
  return roles;
}

const roleOf = (roles: Map<string, Role>, b: BackendId): Role | undefined =>
  b.kind === 'Service' && b.group === '' ? roles.get(`${b.namespace}/${b.name}`) : undefined;

function pick(decision: Decision, random: () => number): BackendId {
  let at = random() * 100;
  for (const b of decision.backends) {
    at -= b.percent;
    if (at < 0) return b.backend;
  }
  return decision.backends[decision.backends.length - 1]!.backend;
}

/** Attached: it has parents and none refused it (a route not yet reconciled counts as attached). */
const attached = (r: RouteObject): boolean =>
  (r.spec.parentRefs ?? []).length > 0 && !(r.status?.parents ?? []).some((p) => p.conditions?.some((c) => c.type === 'Accepted' && c.status === 'False'));

function headersOf(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(',') : v]])));
}

export async function startTrafficGateway(opts: TrafficGatewayOptions): Promise<TrafficGateway> {
  const host = opts.host ?? '127.0.0.1';
  const random = opts.random ?? Math.random;
  const mirrored: Record<Role, number> = { stable: 0, canary: 0 };
  const backends = Object.fromEntries(
    Object.values(Role).map((role) => [
      role,
      createServer((req, res) => {
        if (req.headers['x-rollouts-companion-mirror'] === '1') mirrored[role]++;
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${role}\n`);
      }),
    ]),
  ) as Record<Role, Server>;
  const ports = {} as Record<Role, number>;
  for (const role of Object.values(Role)) ports[role] = await listen(backends[role], '127.0.0.1', 0);

  const forward = (role: Role, req: IncomingMessage, extra: Record<string, string>) =>
    httpRequest({ host: '127.0.0.1', port: ports[role], method: req.method, path: req.url, headers: { ...req.headers, ...extra } });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const routes = (['HTTPRoute'] as const).flatMap((kind) => opts.source.list('gateway.networking.k8s.io/v1', kind) as unknown as RouteObject[]);
    const hostHeader = req.headers.host ?? '';
    const decision = selectRule(
      routes.filter(attached),
      { host: hostHeader, method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), headers: headersOf(req), query: Object.fromEntries(url.searchParams) },
    );
    if (!decision) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(msg.gatewayNoRoute(hostHeader, url.pathname));
    const rule = `${decision.route.kind} ${decision.route.namespace}/${decision.route.name} rules[${decision.ruleIndex}]`;
    if (!decision.backends.length) return void res.writeHead(500, { 'content-type': 'text/plain', [RULE_HEADER]: rule }).end(msg.gatewayNoBackend(rule));
    const roles = rolesOf(opts.source);
    const target = pick(decision, random);
    const role = roleOf(roles, target);
    if (!role) {
      return void res
        .writeHead(502, { 'content-type': 'text/plain', [RULE_HEADER]: rule })
        .end(msg.gatewayUnknownService(`${target.namespace}/${target.name}`));
    }
    const mirrors = decision.mirrors.filter((m) => random() * 100 < m.percent).flatMap((m) => roleOf(roles, m.backend) ?? []);
    for (const m of mirrors) forward(m, req, { 'x-rollouts-companion-mirror': '1' }).on('response', (r) => r.resume()).on('error', () => {}).end();
    const upstream = forward(role, req, {});
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, [RULE_HEADER]: rule, ...(mirrors.length && { [MIRRORED_HEADER]: mirrors.join(', ') }) });
      up.pipe(res);
    });
    upstream.on('error', (e) => res.writeHead(502).end(msg.gatewayBackendFailed(role, e.message)));
    req.pipe(upstream);
  };

  const server = createServer(handle);
  const port = await listen(server, host, opts.port ?? 0);
  const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    mirrored,
    close: async () => {
      server.closeAllConnections();
      await Promise.all([close(server), ...Object.values(backends).map((b) => (b.closeAllConnections(), close(b)))]);
    },
  };
}
