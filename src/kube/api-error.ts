import { ApiException } from '@kubernetes/client-node';

// client-node's ApiException message embeds the whole response (headers included); users
// need the status code and the API server's own sentence.

export interface ApiErrorInfo {
  /** HTTP status, or 0 when the server could not be reached. */
  status: number;
  reason: string;
  message: string;
}

export function apiErrorInfo(err: unknown): ApiErrorInfo {
  if (err instanceof ApiException) {
    const body = parseBody(err.body);
    return {
      status: err.code,
      reason: typeof body?.reason === 'string' ? body.reason : '',
      message: typeof body?.message === 'string' ? body.message : `HTTP ${err.code}`,
    };
  }
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const code = e?.cause?.code ?? e?.code;
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return { status: 0, reason: code ?? 'Unreachable', message: `API server unreachable: ${detail}` };
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

/** An error for a failed API call whose message says what was attempted and why it failed. */
export function apiError(action: string, err: unknown): Error {
  const info = apiErrorInfo(err);
  return new Error(`${action}: ${info.message}`, { cause: err });
}
