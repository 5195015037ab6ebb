import type { BackendId, Decision } from './types.js';

// A decision in words: "stable 90 %, canary 10 %; mirrored to canary at 50 %".

export type BackendNamer = (backend: BackendId) => string;

export const defaultNamer: BackendNamer = (b) =>
  `${b.kind === 'Service' && b.group === '' ? '' : `${b.group ? `${b.kind}.${b.group}` : b.kind}/`}${b.namespace}/${b.name}`;

export function describeDecision(decision: Decision | undefined, name: BackendNamer = defaultNamer): string {
  if (!decision) return 'no route (404)';
  const sends = decision.backends.length ? decision.backends.map((b) => `${name(b.backend)} ${b.percent} %`).join(', ') : 'no backend (500)';
  const mirrors = decision.mirrors.map((m) => `mirrored to ${name(m.backend)} at ${m.percent} %`);
  return [sends, ...mirrors].join('; ');
}
