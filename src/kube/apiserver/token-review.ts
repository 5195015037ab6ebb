import { randomBytes } from 'node:crypto';

import { badRequest } from './status.js';
import { isPlainObject } from './types.js';

// `POST /apis/authentication.k8s.io/v1/tokenreviews`: the API server's answer to "who holds this
// token?", as the companion asks it. Tests issue tokens here the way the kubelet projects
// ServiceAccount tokens (a subject, audiences, an expiry) and the review answers as the real server
// does: `authenticated` with the user, or not with the server's own error text.

const TOKEN_REVIEW_PATH = ['apis', 'authentication.k8s.io', 'v1', 'tokenreviews'] as const;

/** The audience a token carries when none is asked for, and the one a review without audiences checks. */
export const API_SERVER_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

export interface TokenSubject {
  /** e.g. system:serviceaccount:argo-rollouts:argo-rollouts */
  username: string;
  groups?: string[];
  /** Default: the API server's own audience. */
  audiences?: string[];
  /** Epoch milliseconds; default one hour from now. */
  expiresAt?: number;
}

/** A ServiceAccount subject with the groups the real server adds. */
export function serviceAccountSubject(namespace: string, name: string, extra: Omit<TokenSubject, 'username' | 'groups'> = {}): TokenSubject {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    ...extra,
  };
}

export class TokenAuthority {
  private readonly issued = new Map<string, Required<TokenSubject>>();
  /** How many TokenReviews were answered (tests check that a cache spared the API server). */
  reviews = 0;

  /** A new bearer token for `subject`. */
  issue(subject: TokenSubject): string {
    const token = `ey${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, {
      username: subject.username,
      groups: subject.groups ?? ['system:authenticated'],
      audiences: subject.audiences ?? [API_SERVER_AUDIENCE],
      expiresAt: subject.expiresAt ?? Date.now() + 3_600_000,
    });
    return token;
  }

  /** The TokenReview object the server answers with (HTTP 201). */
  review(body: Record<string, unknown>): Record<string, unknown> {
    const spec = isPlainObject(body['spec']) ? body['spec'] : undefined;
    if (!spec || typeof spec['token'] !== 'string' || spec['token'] === '') throw badRequest('TokenReview.authentication.k8s.io "" is invalid: spec.token: Required value');
    this.reviews += 1;
    const wanted = Array.isArray(spec['audiences']) && spec['audiences'].length > 0 ? (spec['audiences'] as string[]) : [API_SERVER_AUDIENCE];
    const answer = (status: Record<string, unknown>) => ({
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { token: spec['token'], ...(spec['audiences'] ? { audiences: spec['audiences'] } : {}) },
      status,
    });
    const subject = this.issued.get(spec['token']);
    // The real server's wording for each failure.
    if (!subject) return answer({ authenticated: false, user: {}, error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' });
    if (subject.expiresAt <= Date.now()) return answer({ authenticated: false, user: {}, error: '[invalid bearer token, service account token has expired]' });
    const audiences = subject.audiences.filter((a) => wanted.includes(a));
    if (audiences.length === 0) {
      return answer({ authenticated: false, user: {}, error: `[invalid bearer token, token audiences "${subject.audiences.join(',')}" is invalid for the target audiences "${wanted.join(',')}"]` });
    }
    return answer({ authenticated: true, user: { username: subject.username, uid: '', groups: subject.groups }, audiences });
  }
}

export function isTokenReviewPath(segments: readonly string[]): boolean {
  return segments.length === TOKEN_REVIEW_PATH.length && TOKEN_REVIEW_PATH.every((s, i) => segments[i] === s);
}
