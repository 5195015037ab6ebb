import type { ResourceDef } from './resources.js';

/** The `Status` object the real API server answers failures with (meta/v1 Status). */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason: string; message: string; field: string }[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** Thrown by the store and the request handler; the handler answers with `status`. */
export class StatusError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message);
    this.name = 'StatusError';
  }
}

export const REASON_BY_CODE: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function failure(code: number, message: string, reason = REASON_BY_CODE[code] ?? 'Unknown', details?: KubeStatus['details']): KubeStatus {
  // Field order as the real server writes it.
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** "httproutes.gateway.networking.k8s.io", or "pods" for the core group, as in real messages. */
function groupResource(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

function details(def: ResourceDef, name: string): KubeStatus['details'] {
  return def.group ? { name, group: def.group, kind: def.plural } : { name, kind: def.plural };
}

export function notFound(def: ResourceDef, name: string): StatusError {
  return new StatusError(failure(404, `${groupResource(def)} "${name}" not found`, 'NotFound', details(def, name)));
}

export function alreadyExists(def: ResourceDef, name: string): StatusError {
  return new StatusError(failure(409, `${groupResource(def)} "${name}" already exists`, 'AlreadyExists', details(def, name)));
}

export function conflict(def: ResourceDef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
  return new StatusError(failure(409, `Operation cannot be fulfilled on ${groupResource(def)} "${name}": ${why}`, 'Conflict', details(def, name)));
}

export function invalid(def: ResourceDef, name: string, field: string, causeReason: string, causeMessage: string): StatusError {
  const qualifiedKind = def.group ? `${def.kind}.${def.group}` : def.kind;
  return new StatusError(
    failure(422, `${qualifiedKind} "${name}" is invalid: ${field}: ${causeMessage}`, 'Invalid', {
      name,
      ...(def.group ? { group: def.group } : {}),
      kind: def.kind,
      causes: [{ reason: causeReason, message: causeMessage, field }],
    }),
  );
}

export function badRequest(message: string): StatusError {
  return new StatusError(failure(400, message, 'BadRequest'));
}

export function expired(message: string): StatusError {
  return new StatusError(failure(410, message, 'Expired'));
}
