import { RouteKind } from './route-store.js';
import type { RouteKindSpec } from './route-kinds.js';

// TLSRoute: rules only forward to weighted backendRefs (routing happens on SNI hostnames).
export const tlsRoute: RouteKindSpec = { kind: RouteKind.TLSRoute, apiVersion: 'gateway.networking.k8s.io/v1alpha2' };
