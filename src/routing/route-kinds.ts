import type { RouteMatch } from './rollout.js';
import { RouteKind } from './route-store.js';
import type { RequestMatch } from './rules.js';
import { httpRoute } from './httproute.js';
import { grpcRoute } from './grpcroute.js';
import { tcpRoute } from './tcproute.js';
import { tlsRoute } from './tlsroute.js';

// What differs between the route kinds; everything else is the shared engine.

export interface RouteKindSpec {
  readonly kind: RouteKind;
  readonly apiVersion: string;
  /**
   * Present when rules carry request matches and filters (HTTP, gRPC): then header and mirror
   * rules can be built. TCP and TLS rules only forward, so managed rules skip them.
   */
  readonly requests?: {
    /** One setMirrorRoute match in this kind's match shape (headers included). */
    mirrorMatch(step: string, index: number, match: RouteMatch): RequestMatch;
  };
}

export const ROUTE_KINDS: Readonly<Record<RouteKind, RouteKindSpec>> = {
  [RouteKind.HTTPRoute]: httpRoute,
  [RouteKind.GRPCRoute]: grpcRoute,
  [RouteKind.TCPRoute]: tcpRoute,
  [RouteKind.TLSRoute]: tlsRoute,
};

export const isRouteKind = (v: unknown): v is RouteKind => typeof v === 'string' && Object.hasOwn(ROUTE_KINDS, v);
