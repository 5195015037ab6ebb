// Kubernetes object names the companion writes into routes (backendRefs) or reads from a
// Rollout. A Service name is a DNS-1123 label; anything else (a path, a control character, a
// 300-character string) must be refused before it reaches a route.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_MAX = 63;

export const isServiceName = (v: unknown): v is string => typeof v === 'string' && v.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(v);

/** A name as it may appear in a one-line message: quoted, escaped, and cut when long. */
export function shownName(v: unknown): string {
  if (typeof v !== 'string') return String(v);
  return JSON.stringify(v.length > DNS1123_LABEL_MAX ? `${v.slice(0, DNS1123_LABEL_MAX)}…` : v);
}
