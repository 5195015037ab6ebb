import type { RouteObject } from '../../src/routing/route-store.js';
import { describeDecision, parseRequest, selectRule, type Listener } from '../../src/routing/traffic/index.js';

// What users see, through the request-matching model (src/routing/traffic): tests say
//   see('GET app.example.com/')              → 'stable 90 %, canary 10 %'
//   see('GET app.example.com/ X-Canary:yes') → 'canary 100 %'
//   see('GET app.example.com/api')           → 'stable 50 %, canary 50 %; mirrored to canary at 50 %'
//   see('GET old.example.com/')              → 'stable 100 %'
// Backends are named by role (the Service names given) or else by Service name.

export type Roles = Readonly<Record<string, string>>;

/** role → Service name, e.g. { stable: 'web-stable', canary: 'web-canary' }. */
export function traffic(routes: readonly RouteObject[], roles: Roles = {}, listener: Listener = {}): (request: string) => string {
  const roleOf = new Map(Object.entries(roles).map(([role, service]) => [service, role]));
  return (request) =>
    describeDecision(selectRule(routes, parseRequest(request), listener), (b) => {
      const base = roleOf.get(b.name) ?? b.name;
      return b.kind === 'Service' && b.group === '' ? base : `${b.kind} ${base}`;
    });
}

/** The traffic of several requests at once, to compare before and after (e.g. removing managed rules restores it). */
export function trafficTable(routes: readonly RouteObject[], roles: Roles, requests: readonly string[]): Record<string, string> {
  const see = traffic(routes, roles);
  return Object.fromEntries(requests.map((r) => [r, see(r)]));
}
