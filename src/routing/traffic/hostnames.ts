// Gateway API hostname semantics: a leading "*." label is a suffix match over one or more labels
// ("*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com").

export const normalizeHost = (host: string): string => host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();

const isWildcard = (h: string): boolean => h.startsWith('*.');

/** Whether the concrete request host matches a (possibly wildcard) hostname. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (!isWildcard(p)) return p === host;
  const suffix = p.slice(1); // ".example.com"
  return host.endsWith(suffix) && host.length > suffix.length;
}

/** Whether a route hostname intersects the listener's: some host matches both. */
export function hostnamesIntersect(listener: string | undefined, route: string): boolean {
  if (listener === undefined) return true;
  const [l, r] = [listener.toLowerCase(), route.toLowerCase()];
  if (!isWildcard(l)) return hostMatches(r, l);
  if (!isWildcard(r)) return hostMatches(l, r);
  return r.endsWith(l.slice(1)) || l.endsWith(r.slice(1));
}

/** How specific a matching hostname is, compared lexicographically (larger wins). */
export interface HostRank {
  /** Characters of a matching non-wildcard hostname (0 for a wildcard). */
  precise: number;
  /** Characters of the matching hostname. */
  length: number;
}

export const NO_HOST_RANK: HostRank = { precise: 0, length: 0 };

/**
 * The most specific of a route's hostnames that accepts `host` on `listener`, or undefined when the
 * route does not serve that host. A route without hostnames serves every host the listener accepts.
 * Ranking uses the route's own hostnames (the spec's preferred GatewayRouteHostnameIntersectionPrecedence).
 */
export function hostRank(routeHostnames: readonly string[] | undefined, listener: string | undefined, host: string): HostRank | undefined {
  if (listener !== undefined && !hostMatches(listener, host)) return undefined;
  if (!routeHostnames?.length) return NO_HOST_RANK;
  let best: HostRank | undefined;
  for (const h of routeHostnames) {
    if (!hostnamesIntersect(listener, h) || !hostMatches(h, host)) continue;
    const rank = { precise: isWildcard(h) ? 0 : h.length, length: h.length };
    if (!best || compareRank(rank, best) > 0) best = rank;
  }
  return best;
}

export const compareRank = (a: HostRank, b: HostRank): number => a.precise - b.precise || a.length - b.length;
