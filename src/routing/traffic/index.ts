// A pure model of Gateway API request matching: where a request goes on a real gateway.
export type { BackendId, BackendShare, Decision, Listener, Mirror, TrafficRequest } from './types.js';
export { selectRule } from './select.js';
export { hostMatches, hostnamesIntersect } from './hostnames.js';
export { parseRequest } from './request.js';
export { defaultNamer, describeDecision, type BackendNamer } from './describe.js';
