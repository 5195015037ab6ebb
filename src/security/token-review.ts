import { createHash } from 'node:crypto';
import { apiErrorInfo } from '../kube/api-error.js';
import type { KubeClient } from '../kube/client.js';
import * as msg from './errors.js';

// Who is calling: the caller's ServiceAccount token, checked by the API server (TokenReview) for
// our audience. Answers are cached briefly by the token's SHA-256, so the controller's steady
// stream of calls costs one review per token per TTL; tokens themselves are never kept or logged.

export const DEFAULT_AUDIENCE = 'rollouts-companion';
export const DEFAULT_ALLOWED_CALLERS = ['system:serviceaccount:argo-rollouts:argo-rollouts'] as const;

export interface Identity {
  username: string;
  groups: string[];
}

/** The token is not one the API server vouches for (missing, expired, wrong audience, forged). */
export class TokenRejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TokenRejectedError';
  }
}

export interface TokenReviewerOptions {
  audience?: string;
  /** How long an answer is reused; default 10 s (a revoked token keeps working at most this long). */
  ttlMs?: number;
  /** Entries kept; the oldest go first. Default 1000. */
  maxEntries?: number;
  /** TokenReviews one source (peer address) may have waiting; default 4. */
  maxPendingPerSource?: number;
}

/** One source is sending new tokens faster than the API server answers (a flood of made-up tokens). */
export class TooManyReviewsError extends Error {
  constructor(source: string) {
    super(msg.tooManyReviews(source));
    this.name = 'TooManyReviewsError';
  }
}

type Answer = { identity: Identity } | { rejected: string };

export class TokenReviewer {
  private readonly cache = new Map<string, { until: number; answer: Promise<Answer> }>();
  private readonly audience: string;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxPending: number;
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly kube: KubeClient,
    options: TokenReviewerOptions = {},
  ) {
    this.audience = options.audience ?? DEFAULT_AUDIENCE;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxPending = options.maxPendingPerSource ?? 4;
  }

  /**
   * The token's identity; throws TokenRejectedError, TooManyReviewsError, or a plain Error when
   * the API server cannot answer. `source` (the peer) bounds how many API requests made-up tokens
   * from one place can cost: the API server budget is shared with the routes' reads and writes.
   */
  async review(token: string, source = ''): Promise<Identity> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    let entry = this.cache.get(key);
    if (!entry || entry.until <= now) {
      const waiting = this.pending.get(source) ?? 0;
      if (waiting >= this.maxPending) throw new TooManyReviewsError(source);
      this.pending.set(source, waiting + 1);
      const done = () => {
        const left = (this.pending.get(source) ?? 1) - 1;
        if (left > 0) this.pending.set(source, left);
        else this.pending.delete(source);
      };
      // Concurrent calls with one token share one review.
      entry = { until: now + this.ttlMs, answer: this.ask(token).finally(done) };
      this.cache.delete(key);
      this.cache.set(key, entry);
      if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      // An API server that could not answer is asked again next time.
      entry.answer.catch(() => this.cache.delete(key));
    }
    const answer = await entry.answer;
    if ('rejected' in answer) throw new TokenRejectedError(msg.tokenRejected(answer.rejected));
    return answer.identity;
  }

  private async ask(token: string): Promise<Answer> {
    let review: TokenReview;
    try {
      review = await this.kube.request<TokenReview>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/tokenreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.audience] } },
      });
    } catch (err) {
      const { status, message } = apiErrorInfo(err);
      throw new Error(msg.tokenReviewFailed(status ? `${status} ${message}` : message), { cause: err });
    }
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) return { rejected: status?.error || 'not authenticated' };
    if (!(status.audiences ?? []).includes(this.audience)) return { rejected: `token is not for audience "${this.audience}"` };
    return { identity: { username: status.user.username, groups: status.user.groups ?? [] } };
  }
}

/** authentication.k8s.io/v1 TokenReview, the fields read back. */
interface TokenReview {
  status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; audiences?: string[]; error?: string };
}

/** Whether `identity` is one of `allowed` (usernames, or groups such as system:serviceaccounts:argo-rollouts). */
export function isAllowed(identity: Identity, allowed: readonly string[]): boolean {
  return allowed.includes(identity.username) || identity.groups.some((g) => allowed.includes(g));
}
