// What callers and Rollout owners read when the companion refuses: each message says what is
// missing and how to fix it, and never whether an object exists where the caller may not look.

export const TOKEN_MISSING = 'no ServiceAccount token: send "authorization: Bearer <token>" (the plugin: --companion-token-file; call: --token-file)';

export const tokenRejected = (reason: string): string => `token rejected by TokenReview: ${reason}`;

export const tokenReviewFailed = (detail: string): string => `cannot check the caller's token with a TokenReview: ${detail}`;

export const tooManyReviews = (source: string): string => `too many new tokens from ${source || 'this caller'} waiting for a TokenReview: retry later`;

export const callerNotAllowed = (username: string, allowed: readonly string[]): string =>
  `${username} may not call the companion (allowed: ${allowed.join(', ')}; see serve --allowed-callers)`;

export const tooManyCalls = (caller: string): string => `too many calls from ${caller}: retry later`;

export const tooManyInFlight = (caller: string, limit: number): string => `${caller} already has ${limit} calls in progress: retry later`;

export const deadlineExceeded = (ms: number): string => `call did not finish within the companion's ${ms} ms limit`;

export const tlsFilesMissing = (files: string[]): string => `TLS certificate file(s) not found: ${files.join(', ')}`;

export const unauthenticatedBeyondLoopback = (listen: string): string =>
  `refusing to serve gRPC on ${listen} without authentication: listen on 127.0.0.1, or pass --insecure-allow-unauthenticated if a network policy or sidecar stands in front`;

// --- the stored Rollout ---------------------------------------------------------------------

export const rolloutNameMissing = 'the request names no Rollout (metadata.namespace and metadata.name are required)';

export const rolloutNotFound = (ref: string): string => `Rollout ${ref} not found: the companion acts only on Rollouts stored in the cluster`;

export const rolloutUidMismatch = (ref: string, sent: string, stored: string): string =>
  `Rollout ${ref}: the request's uid ${sent} is not the stored Rollout's (${stored}); it was deleted and re-created, or the request is forged`;

export const pluginNotServed = (name: string, served: string): string => `plugin name "${name}" is not served by this companion (it serves "${served}", see --plugin-name)`;

export const pluginNotUsed = (ref: string, name: string): string =>
  `Rollout ${ref} does not use plugin "${name}": spec.strategy.canary.trafficRouting.plugins has no "${name}" entry`;

export const foreignDestination = (ref: string, service: string): string =>
  `Rollout ${ref}: additionalDestinations service "${service}" is not a Service of an Experiment owned by this Rollout`;

// --- cross-namespace consent ----------------------------------------------------------------

export const ALLOW_FROM_ANNOTATION = 'rollouts-companion.argoproj.io/allow-rollouts-from';

export const crossNamespaceRefused = (rollout: string, namespace: string, rolloutNamespace: string): string =>
  `Rollout ${rollout} may not use routes in namespace ${namespace}: every route it names there must be annotated ` +
  `${ALLOW_FROM_ANNOTATION}: "${rolloutNamespace}" (or the companion started with --allow-cross-namespace-routes)`;
