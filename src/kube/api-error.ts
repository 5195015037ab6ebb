import { OverloadedError } from '../routing/api.js';
import { RouteStoreError } from '../routing/route-store.js';
import * as msg from './errors.js';
import type { ApiTarget } from './errors.js';

export type { ApiTarget } from './errors.js';

// An HTTP error carries the whole response; users need one line: the object, the verb and
// the API server's own reason.

/** The API server answered with an error status (KubeClient.request). */
export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    /** The response body as sent: usually a metav1.Status. */
    readonly body: string,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${code}`);
    this.name = 'ApiStatusError';
  }
}

/**
 * The HTTP status of an error answered by the API server, or undefined when there was no
 * answer. Knows ours and client-node's ApiException (same shape) without loading client-node.
 */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiStatusError) return err.code;
  const e = err as { code?: unknown } | undefined;
  return err instanceof Error && typeof e?.code === 'number' && 'body' in err ? e.code : undefined;
}

/** Why a request got no HTTP answer (see KubeClient.call). */
export const NoAnswer = {
  /** The per-request deadline passed: the request was aborted and its socket destroyed. */
  Timeout: 'Timeout',
  /** The caller went away (cancelled, or its deadline passed). */
  Abandoned: 'Abandoned',
  /** Connection refused, reset, or the response was cut short. */
  Unreachable: 'Unreachable',
} as const;
export type NoAnswer = (typeof NoAnswer)[keyof typeof NoAnswer];

/** A request that got no HTTP answer; the message is the low-level detail, for logs. */
export class NoAnswerError extends Error {
  constructor(
    readonly why: NoAnswer,
    message: string,
    /** For timeouts: the per-request deadline in ms. */
    readonly timeoutMs = 0,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'NoAnswerError';
  }
}

export interface ApiErrorInfo {
  /** HTTP status, or 0 when the server did not answer. */
  status: number;
  reason: string;
  message: string;
}

export function apiErrorInfo(err: unknown): ApiErrorInfo {
  const status = httpStatus(err);
  if (status !== undefined) {
    const body = parseBody((err as { body?: unknown }).body);
    return {
      status,
      reason: typeof body?.reason === 'string' ? body.reason : '',
      message: oneLine(typeof body?.message === 'string' ? body.message : `HTTP ${status}`),
    };
  }
  if (err instanceof NoAnswerError) return { status: 0, reason: err.why, message: oneLine(err.message) };
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const code = e?.cause?.code ?? e?.code;
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return { status: 0, reason: code ?? NoAnswer.Unreachable, message: oneLine(detail) };
}

/** Server messages may span lines or be huge; an error line must not. */
function oneLine(text: string): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (body && typeof body === 'object') return body as Record<string, unknown>;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A failed request as one line naming the object, the verb and the server's reason (a
 * RouteStoreError: error text shown to users stops at it). `server` names the API server for
 * "unreachable"; `attempts` is how many writes a conflict loop made.
 */
export function apiError(target: ApiTarget, err: unknown, options: { server?: string; attempts?: number } = {}): Error {
  // An overload is about this process, not the object: it travels as it is, to become RESOURCE_EXHAUSTED.
  if (err instanceof OverloadedError) return err;
  return new RouteStoreError(apiErrorMessage(target, err, options), { cause: err });
}

export function apiErrorMessage(target: ApiTarget, err: unknown, options: { server?: string; attempts?: number } = {}): string {
  const info = apiErrorInfo(err);
  if (err instanceof NoAnswerError) {
    if (err.why === NoAnswer.Timeout) return msg.timedOut(target, err.timeoutMs);
    if (err.why === NoAnswer.Abandoned) return msg.abandoned(target);
  }
  switch (info.status) {
    case 0:
      return msg.unreachable(target, options.server ?? 'API server', info.message);
    case 401:
      return msg.unauthorized(target);
    case 403:
      return msg.forbidden(target);
    case 404:
      return msg.notFound(target);
    case 409:
      return options.attempts ? msg.conflictsExhausted(target, options.attempts) : msg.otherStatus(target, 409, info.message);
    case 400:
    case 422:
      return msg.invalid(target, info.message);
    case 429:
      return msg.throttled(target, info.message);
    default:
      return info.status >= 500 ? msg.serverError(target, info.status, info.reason, info.message) : msg.otherStatus(target, info.status, info.message);
  }
}
