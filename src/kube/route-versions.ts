import { callerGone, type CallContext } from '../routing/api.js';
import { httpStatus, NoAnswer, NoAnswerError } from './api-error.js';
import type { KubeClient } from './client.js';
import { RouteKind } from '../routing/route-store.js';

// Which version of each Gateway API route kind the cluster serves, found once through discovery:
// the newest served version (v1 before v1beta1 before v1alpha2, as Kubernetes orders versions), so
// the companion works on clusters with older CRDs (TCPRoute/TLSRoute only v1alpha2, HTTPRoute
// v1beta1) and newer ones alike.

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface RouteResource {
  group: string;
  version: string;
  plural: string;
}

const PLURALS: Record<RouteKind, string> = {
  [RouteKind.HTTPRoute]: 'httproutes',
  [RouteKind.GRPCRoute]: 'grpcroutes',
  [RouteKind.TCPRoute]: 'tcproutes',
  [RouteKind.TLSRoute]: 'tlsroutes',
};

/** Standard channel carries these; the others need the Experimental channel's CRDs. */
const STANDARD: ReadonlySet<RouteKind> = new Set([RouteKind.HTTPRoute, RouteKind.GRPCRoute]);

/** The cluster has no CRD for a route kind: the message names the CRD to install. */
export class KindNotServedError extends Error {
  constructor(kind: RouteKind, served: readonly string[]) {
    super(kindNotServed(kind, served));
    this.name = 'KindNotServedError';
  }
}

export const kindNotServed = (kind: RouteKind, served: readonly string[]): string =>
  `the cluster does not serve ${kind} (${GATEWAY_GROUP} versions served: ${served.length ? served.join(', ') : 'none'}); ` +
  `install the Gateway API CRD ${PLURALS[kind]}.${GATEWAY_GROUP} (${STANDARD.has(kind) ? 'Standard' : 'Experimental'} channel)`;

const VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** Kubernetes version priority: GA, then beta, then alpha; higher numbers first. Negative: `a` first. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = VERSION.exec(v);
    if (!m) return [-1, 0, 0];
    return [m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [x, y] = [rank(a), rank(b)];
  return y[0] - x[0] || y[1] - x[1] || y[2] - x[2] || a.localeCompare(b);
}

/** The most a call that arrives during the warm-up waits for it before discovering itself. */
const WARM_UP_MS = 2_000;

const shared = new WeakMap<KubeClient, RouteVersions>();

/** The client's one RouteVersions: what a cluster serves is discovered once per client, whoever asks. */
export function routeVersionsOf(kube: KubeClient): RouteVersions {
  let versions = shared.get(kube);
  if (!versions) shared.set(kube, (versions = new RouteVersions(kube)));
  return versions;
}

type Discovered = { served: string[]; byKind: Map<RouteKind, string> };

/**
 * Discovers once (a failed discovery is retried on the next call) and answers per kind. v1 is
 * asked first: it is the newest version there is, and current clusters serve HTTPRoute and
 * GRPCRoute there, so a first call costs one request, not one per version. Kinds v1 does not
 * serve go through full discovery. A failed discovery request is thrown as the client's error:
 * the caller names the object it was for.
 */
export class RouteVersions {
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(private readonly kube: KubeClient) {}

  /**
   * Discovers what HTTPRoutes need now, in the background, within WARM_UP_MS: the plugin does
   * it right after start, while the controller is still encoding its first SetWeight (the
   * Rollout's type tree takes it tens of milliseconds), which then finds discovery done and a
   * connection open. A failure is forgotten; the first call discovers within its own deadline.
   */
  warmUp(): void {
    this.resource(RouteKind.HTTPRoute, { deadline: Date.now() + WARM_UP_MS }).catch(() => undefined);
  }

  /** Discovery runs within the deadline of the call that needs it first; if that call goes, the next one asks again. */
  async resource(kind: RouteKind, ctx?: CallContext): Promise<RouteResource> {
    const atV1 = await this.atV1(ctx);
    if (atV1?.has(PLURALS[kind])) return { group: GATEWAY_GROUP, version: 'v1', plural: PLURALS[kind] };
    const { served, byKind } = await this.once('all', ctx, () => this.discover(ctx));
    const version = byKind.get(kind);
    if (version === undefined) throw new KindNotServedError(kind, served);
    return { group: GATEWAY_GROUP, version, plural: PLURALS[kind] };
  }

  /** `load` once per key; a failure is forgotten, and one that ended with another caller is retried within ours. */
  private async once<T>(key: string, ctx: CallContext | undefined, load: () => Promise<T>): Promise<T> {
    const run = (): Promise<T> => {
      let p = this.pending.get(key) as Promise<T> | undefined;
      if (!p) {
        p = load();
        this.pending.set(key, p);
        p.catch(() => this.pending.delete(key));
      }
      return p;
    };
    return run().catch((err: unknown) => {
      // Another caller's discovery ended with that caller (gone, or its deadline passed): ask within ours.
      if (err instanceof NoAnswerError && err.why !== NoAnswer.Unreachable && !callerGone(ctx)) return run();
      throw err;
    });
  }

  private atV1(ctx?: CallContext): Promise<Set<string> | undefined> {
    return this.once('v1', ctx, () => this.resources('v1', ctx));
  }

  /** The resources (plurals) the group serves at `version`; undefined when it does not serve that version. */
  private async resources(version: string, ctx?: CallContext): Promise<Set<string> | undefined> {
    try {
      const list = await this.kube.request<{ resources?: { name: string }[] }>({ method: 'GET', path: `/apis/${GATEWAY_GROUP}/${version}` }, ctx);
      return new Set((list.resources ?? []).map((r) => r.name));
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  private async discover(ctx?: CallContext): Promise<Discovered> {
    const groups = await this.kube.request<{ groups?: { name: string; versions?: { version: string }[] }[] }>({ method: 'GET', path: '/apis' }, ctx);
    const group = groups.groups?.find((g) => g.name === GATEWAY_GROUP);
    const served = (group?.versions ?? []).map((v) => v.version).sort(compareVersions);
    const byKind = new Map<RouteKind, string>();
    for (const version of served) {
      const plurals = await (version === 'v1' ? this.atV1(ctx) : this.resources(version, ctx));
      for (const [kind, plural] of Object.entries(PLURALS) as [RouteKind, string][]) {
        if (!byKind.has(kind) && plurals?.has(plural)) byKind.set(kind, version);
      }
    }
    return { served, byKind };
  }
}
