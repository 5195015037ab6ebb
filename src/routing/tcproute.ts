import { RouteKind } from './route-store.js';
import type { RouteKindSpec } from './route-kinds.js';

// TCPRoute: rules only forward to weighted backendRefs.
export const tcpRoute: RouteKindSpec = { kind: RouteKind.TCPRoute, apiVersion: 'gateway.networking.k8s.io/v1alpha2' };
