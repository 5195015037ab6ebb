import * as grpc from '@grpc/grpc-js';
import * as msg from '../security/errors.js';
import { VERSION_SERVICE } from './version.js';
import { isAllowed, TokenRejectedError, TooManyReviewsError, type Identity } from '../security/token-review.js';

// The companion's front door, as one grpc-js server interceptor in front of every service but
// health, reflection and version: who is calling (ServiceAccount token → TokenReview), may they
// (allowed callers), and how much (per-caller calls in flight and call rate, a ceiling on every
// call's duration). One caller flooding the server is refused with RESOURCE_EXHAUSTED while the
// others' calls go through.

/**
 * Services anyone may call: probes, grpcurl's discovery, and the contract version (what
 * reflection already tells; the plugin and `version --companion` ask it before anything else).
 */
const OPEN_SERVICES = [
  '/grpc.health.v1.Health/',
  '/grpc.reflection.v1.ServerReflection/',
  '/grpc.reflection.v1alpha.ServerReflection/',
  `/${VERSION_SERVICE}/`,
];

export interface CallerLimits {
  /** Calls one caller may have in progress. */
  maxInFlight: number;
  /** Sustained calls per second per caller, and the burst above it. */
  ratePerSecond: number;
  burst: number;
  /** Ceiling on every call, whatever deadline the caller set (or none). */
  maxCallMs: number;
}

// The controller makes one call per Rollout reconcile with a handful of workers: these leave it
// ample room and stop a runaway or hostile caller long before the API server budget is gone.
export const DEFAULT_CALLER_LIMITS: CallerLimits = { maxInFlight: 32, ratePerSecond: 100, burst: 200, maxCallMs: 60_000 };

export interface Refusal {
  method: string;
  /** The username, or the peer address when the call carries no accepted identity. Never the token. */
  caller: string;
  code: grpc.status;
  reason: string;
}

export interface CallerGuardOptions {
  /** Checks a bearer token. Absent: no authentication (dev mode, or serve --insecure-allow-unauthenticated). */
  reviewer?: { review(token: string, source: string): Promise<Identity> };
  /** Usernames or groups that may call; ignored without a reviewer. */
  allowed: readonly string[];
  limits?: Partial<CallerLimits>;
  onRefused?: (refusal: Refusal) => void;
}

class Status extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** Per-caller token bucket and in-flight count. */
class CallerBudget {
  private tokens: number;
  private last = Date.now();
  inFlight = 0;

  constructor(private readonly limits: CallerLimits) {
    this.tokens = limits.burst;
  }

  /** Takes one call's budget, or says why not. */
  take(caller: string): string | undefined {
    const now = Date.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.last) / 1000) * this.limits.ratePerSecond);
    this.last = now;
    if (this.inFlight >= this.limits.maxInFlight) return msg.tooManyInFlight(caller, this.limits.maxInFlight);
    if (this.tokens < 1) return msg.tooManyCalls(caller);
    this.tokens -= 1;
    this.inFlight += 1;
    return undefined;
  }
}

function bearer(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/** "ipv4:10.0.0.7:51234" or "10.0.0.7:51234" → "10.0.0.7". */
function peerHost(peer: string): string {
  return peer.replace(/^ipv[46]:/, '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

export function callerGuard(options: CallerGuardOptions): grpc.ServerInterceptor {
  const limits = { ...DEFAULT_CALLER_LIMITS, ...options.limits };
  const budgets = new Map<string, CallerBudget>();

  const admit = async (metadata: grpc.Metadata, peer: string): Promise<string> => {
    let caller = peerHost(peer);
    if (options.reviewer) {
      const token = bearer(metadata);
      if (!token) throw new Status(grpc.status.UNAUTHENTICATED, msg.TOKEN_MISSING);
      let identity: Identity;
      try {
        identity = await options.reviewer.review(token, caller);
      } catch (err) {
        if (err instanceof TokenRejectedError) throw new Status(grpc.status.UNAUTHENTICATED, err.message);
        if (err instanceof TooManyReviewsError) throw new Status(grpc.status.RESOURCE_EXHAUSTED, err.message);
        throw new Status(grpc.status.UNAVAILABLE, (err as Error).message);
      }
      caller = identity.username;
      if (!isAllowed(identity, options.allowed)) throw new Status(grpc.status.PERMISSION_DENIED, msg.callerNotAllowed(caller, options.allowed));
    }
    let budget = budgets.get(caller);
    if (!budget) budgets.set(caller, (budget = new CallerBudget(limits)));
    const refused = budget.take(caller);
    if (refused) throw new Status(grpc.status.RESOURCE_EXHAUSTED, refused);
    return caller;
  };

  return (method, call) => {
    if (OPEN_SERVICES.some((s) => method.path.startsWith(s))) return new grpc.ServerInterceptingCall(call);
    let caller: string | undefined;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      if (ended) return false;
      ended = true;
      clearTimeout(timer);
      if (caller) budgets.get(caller)!.inFlight -= 1;
      return true;
    };
    const refuse = (who: string, code: grpc.status, reason: string) => {
      if (!end()) return;
      options.onRefused?.({ method: method.path, caller: who, code, reason });
      call.sendStatus({ code, details: reason });
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            admit(metadata, call.getPeer()).then(
              (who) => {
                // Cancelled while we were checking: give the budget back, nothing else to do.
                if (ended) return void (budgets.get(who)!.inFlight -= 1);
                caller = who;
                // Handlers never see the token.
                metadata.remove('authorization');
                timer = setTimeout(() => refuse(who, grpc.status.DEADLINE_EXCEEDED, msg.deadlineExceeded(limits.maxCallMs)), limits.maxCallMs);
                timer.unref();
                nextMetadata(metadata);
              },
              (err: Error) => refuse(peerHost(call.getPeer()), err instanceof Status ? err.code : grpc.status.INTERNAL, err.message),
            );
          },
          onCancel: () => void end(),
        });
      },
      sendStatus: (status, next) => {
        // After a refusal (the call's time ran out) the handler's late answer is dropped.
        if (end()) next(status);
      },
    });
  };
}
