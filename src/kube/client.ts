import * as http from 'node:http';
import * as https from 'node:https';

import type { KubeConfig } from '@kubernetes/client-node';

import { OverloadedError, type CallContext } from '../routing/api.js';
import { ApiStatusError, NoAnswer, NoAnswerError, httpStatus } from './api-error.js';
import type { ClusterAccess, ClusterTls } from './cluster-access.js';
import * as msg from './errors.js';
import { loadAccess } from './kubeconfig-access.js';
import { DEFAULT_MAX_QUEUED, QueueFullError, RateLimiter } from './rate-limit.js';

// Kubernetes access for the whole process: kubeconfig (KUBECONFIG, ~/.kube/config) or
// in-cluster credentials, JSON over our own HTTP layer. Every request of the process shares
// one keep-alive pool, has a deadline shorter than its caller's, and is aborted (socket
// destroyed) when that deadline passes. @kubernetes/client-node is not loaded for this: the
// plugin's few requests are plain REST, and loading the library is most of the plugin's
// start-up and memory. Companion code that wants client-node's API classes gets them, on
// this same client, from client-node-api.ts.

export interface KubeClientOptions {
  /** A kubeconfig file; defaults to KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** An already loaded config (tests, dev mode). Wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  context?: string;
  qps?: number;
  burst?: number;
  /** Requests that may wait for the rate limit before new ones are refused (OverloadedError). */
  maxQueued?: number;
  /** Longest single request attempt, in ms. */
  requestTimeoutMs?: number;
  /** How long a call without a caller deadline may take in all, retries included, in ms. */
  callTimeoutMs?: number;
  /** Sockets per API server in the pool. */
  maxSockets?: number;
  /** Reports every request attempt (for metrics). */
  observer?: RequestObserver;
}

/** One API request attempt as the observer sees it. */
export interface RequestObservation {
  /** Kubernetes verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  /** Plural resource, with its group when not core: "httproutes.gateway.networking.k8s.io". */
  resource: string;
  /** HTTP status; 0 when there was no answer (timeout, reset, abandoned). */
  code: number;
  seconds: number;
}
export type RequestObserver = (observation: RequestObservation) => void;

// One reconcile pass of 100 Rollouts (UpdateHash, SetWeight, VerifyWeight: about one read
// per route each) fits in the burst; client-go's 5/10 would throttle a single busy Rollout.
export const DEFAULT_QPS = 100;
export const DEFAULT_BURST = 300;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_SOCKETS = 16;
/** Responses larger than this are refused: a runaway list must not exhaust memory. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;
/**
 * No retry starts with less time than this: it could hardly get an answer, yet a write it sends
 * would add one more outcome the caller never learns.
 */
const MIN_ATTEMPT_MS = 250;

/** One REST request: a JSON body (or a patch) in, a JSON object out. */
export interface ApiRequest {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** The API path, "/apis/group/version/namespaces/ns/plural/name", without the server. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Defaults to application/json; patches name their strategy here. */
  contentType?: string;
}

/** A raw exchange as it went over the wire (for client-node's API classes, see client-node-api.ts). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class KubeClient {
  /** The config given by the caller, if any (client-node-api.ts's Watch needs one). */
  readonly kubeConfig: KubeConfig | undefined;
  /** The kubeconfig file and context asked for, if any. */
  readonly kubeconfigPath: string | undefined;
  readonly context: string | undefined;
  private readonly access: Promise<ClusterAccess>;
  private loaded: ClusterAccess | undefined;
  private readonly limiter: RateLimiter;
  private readonly observers = new Set<RequestObserver>();
  private readonly requestTimeoutMs: number;
  private readonly callTimeoutMs: number;
  private readonly pool: ConnectionPool;

  constructor(options: KubeClientOptions = {}) {
    this.kubeConfig = options.kubeConfig;
    this.kubeconfigPath = options.kubeconfig;
    this.context = options.context;
    this.limiter = new RateLimiter(options.qps ?? DEFAULT_QPS, options.burst ?? DEFAULT_BURST, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (options.observer) this.observers.add(options.observer);
    this.pool = new ConnectionPool(options.maxSockets ?? DEFAULT_MAX_SOCKETS);
    // Read once, when first needed; a configuration that cannot be read fails every request with why.
    this.access = loadAccess(options).then((access) => (this.loaded = access));
    this.access.catch(() => undefined);
  }

  /** Resolves once the configuration is read; rejects with why it cannot be (serve checks this at start). */
  async ready(): Promise<void> {
    await this.access;
  }

  /** Adds a request observer; returns a function that removes it. */
  onRequest(observer: RequestObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * One API request for a caller, through `call` (rate limit, deadlines, retries). Resolves
   * with the response's JSON; rejects with ApiStatusError for an HTTP error, NoAnswerError
   * when there was no answer.
   */
  request<T>(request: ApiRequest, ctx?: CallContext): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) query.set(k, v);
    const path = query.size ? `${request.path}?${query}` : request.path;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = request.contentType ?? 'application/json';
    return this.call(async (signal) => {
      const response = await this.exchange(request.method, path, headers, body, signal);
      const text = response.body.toString('utf8');
      if (response.status < 200 || response.status > 299) throw new ApiStatusError(response.status, text, response.headers);
      return (text ? JSON.parse(text) : undefined) as T;
    }, ctx);
  }

  /**
   * Runs one API request (a `request`, or one client-node API method call) for a caller. Waits
   * for the rate limit (refused with OverloadedError when its queue is full), gives every
   * attempt a deadline shorter than the caller's, and retries 429, 5xx, resets and timeouts
   * with jittered exponential back-off while the caller's deadline allows. 409 is not retried
   * here: only the writer can re-read and re-plan (see `backoff`). `request` gets the
   * attempt's signal, which aborts when the attempt's deadline passes or the caller goes.
   */
  async call<T>(request: (signal: AbortSignal) => Promise<T>, ctx?: CallContext): Promise<T> {
    const deadline = Math.min(ctx?.deadline ?? Infinity, Date.now() + this.callTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      const attemptAbort = new AbortController();
      const onCallerGone = () => attemptAbort.abort(new NoAnswerError(NoAnswer.Abandoned, 'the caller went away'));
      const remaining = deadline - Date.now();
      const timeoutMs = Math.min(this.requestTimeoutMs, remaining - replyMargin(remaining));
      if (ctx?.signal?.aborted || timeoutMs <= 0) throw new NoAnswerError(NoAnswer.Abandoned, 'the caller went away');
      const timer = setTimeout(
        () => attemptAbort.abort(new NoAnswerError(NoAnswer.Timeout, `no answer within ${Math.round(timeoutMs)} ms`, Math.round(timeoutMs))),
        timeoutMs,
      );
      ctx?.signal?.addEventListener('abort', onCallerGone, { once: true });
      try {
        try {
          await this.limiter.acquire(attemptAbort.signal);
        } catch (err) {
          if (err instanceof QueueFullError) throw new OverloadedError(msg.overloaded(err.limit), { cause: err });
          throw err;
        }
        return await untilAborted(request(attemptAbort.signal), attemptAbort.signal);
      } catch (err) {
        const wait = retryDelay(err, attempt);
        if (wait === undefined || ctx?.signal?.aborted) throw err;
        const left = deadline - Date.now() - wait;
        if (left - replyMargin(left) < MIN_ATTEMPT_MS) throw err;
        await sleep(wait, ctx?.signal);
      } finally {
        clearTimeout(timer);
        ctx?.signal?.removeEventListener('abort', onCallerGone);
      }
    }
  }

  /**
   * Waits before the next attempt of a read-modify-write that hit 409 (jittered exponential
   * back-off). Resolves false when the caller's deadline does not leave room for another try.
   */
  async backoff(attempt: number, ctx?: CallContext): Promise<boolean> {
    const wait = jittered(attempt);
    const left = (ctx?.deadline ?? Infinity) - Date.now() - wait;
    if (ctx?.signal?.aborted || left - replyMargin(left) < MIN_ATTEMPT_MS) return false;
    await sleep(wait, ctx?.signal);
    return !ctx?.signal?.aborted;
  }

  /** Requests so far that had to wait for the rate limit (for metrics and tests). */
  get throttled(): number {
    return this.limiter.waited;
  }

  /** The API server URL of the current context (for logs; never credentials). */
  get server(): string {
    return this.loaded?.server ?? this.kubeConfig?.getCurrentCluster()?.server ?? '(unknown)';
  }

  /** Closes the pool's idle connections (tests, shutdown). */
  close(): void {
    this.pool.destroy();
  }

  /**
   * One HTTP exchange with the API server, credentials added, on the pool, aborted with
   * `signal` (a `call` attempt's). `pathAndQuery` is relative to the server URL.
   */
  async exchange(method: string, pathAndQuery: string, headers: Record<string, string>, body?: string | Buffer, signal?: AbortSignal): Promise<RawResponse> {
    const access = await this.access;
    const url = new URL(access.server + pathAndQuery);
    const { verb, resource } = describeRequest(method, url);
    const started = process.hrtime.bigint();
    let code = 0;
    try {
      const credentials = await access.credentials();
      const agent = this.pool.agent(access, credentials);
      const response = await sendHttp(url, method, { ...headers, ...credentials.headers }, body, agent, signal);
      code = response.status;
      return response;
    } finally {
      if (this.observers.size) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        for (const observe of this.observers) observe({ verb, resource, code, seconds });
      }
    }
  }
}

/**
 * How much of the caller's remaining time to leave for the answer to travel back: the caller
 * must hear "timed out" from us before it gives up itself.
 */
function replyMargin(remainingMs: number): number {
  if (!Number.isFinite(remainingMs)) return 0;
  return Math.min(1000, Math.max(20, remainingMs * 0.1));
}

function jittered(attempt: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** How long to wait before retrying `err`, or undefined when it is not worth retrying. */
function retryDelay(err: unknown, attempt: number): number | undefined {
  const code = httpStatus(err);
  if (code !== undefined) {
    if (code === 429) {
      const after = Number((err as { headers?: Record<string, string> }).headers?.['retry-after']);
      return Number.isFinite(after) && after > 0 ? Math.max(after * 1000, jittered(attempt)) : jittered(attempt);
    }
    return code >= 500 && code !== 501 ? jittered(attempt) : undefined;
  }
  if (err instanceof NoAnswerError) return err.why === NoAnswer.Abandoned ? undefined : jittered(attempt);
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `work`, or the signal's reason as soon as it aborts: no request outlives its deadline. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * verb and resource of an API path, as the API server's audit log names them; discovery
 * documents (/apis, /apis/GROUP/VERSION, ...) are "get discovery".
 */
export function describeRequest(method: string, url: URL): { verb: string; resource: string } {
  const parts = url.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/GROUP/VERSION/...
  const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
  let rest = parts.slice(parts[0] === 'apis' ? 3 : 2);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const plural = rest[0] ?? '';
  if (!plural) return { verb: method.toLowerCase(), resource: 'discovery' };
  const named = rest.length > 1;
  const resource = group ? `${plural}.${group}` : plural;
  switch (method.toUpperCase()) {
    case 'GET':
      return { verb: url.searchParams.get('watch') === 'true' ? 'watch' : named ? 'get' : 'list', resource };
    case 'PUT':
      return { verb: 'update', resource };
    case 'POST':
      return { verb: 'create', resource };
    case 'PATCH':
      return { verb: 'patch', resource };
    case 'DELETE':
      return { verb: named ? 'delete' : 'deletecollection', resource };
    default:
      return { verb: method.toLowerCase(), resource };
  }
}

/** One HTTP exchange with the whole body read; aborting destroys the socket. */
function sendHttp(
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body: string | Buffer | undefined,
  agent: http.Agent,
  signal: AbortSignal | undefined,
): Promise<RawResponse> {
  if (body !== undefined) headers = { ...headers, 'Content-Length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, { method, headers, agent });
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => fail(new NoAnswerError(NoAnswer.Unreachable, err.message, 0, { cause: err })));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) return fail(new Error(msg.responseTooLarge(MAX_RESPONSE_BYTES)));
        chunks.push(chunk);
      });
      res.on('error', (err) => fail(new NoAnswerError(NoAnswer.Unreachable, err.message, 0, { cause: err })));
      res.on('close', () => {
        if (!res.complete) fail(new NoAnswerError(NoAnswer.Unreachable, msg.truncatedResponse));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const responseHeaders: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}

/**
 * The process's one keep-alive pool, built from the cluster's TLS material; rebuilt only if
 * credentials bring a new client certificate (an exec plugin rotating it).
 */
class ConnectionPool {
  private current: { agent: http.Agent; tls: string } | undefined;

  constructor(private readonly maxSockets: number) {}

  agent(access: ClusterAccess, credentials: { cert?: string | Buffer; key?: string | Buffer }): http.Agent {
    const rotated = credentials.cert || credentials.key;
    const wanted = rotated ? `${String(credentials.cert ?? '')}|${String(credentials.key ?? '')}` : '';
    if (this.current && this.current.tls === wanted) return this.current.agent;
    this.current?.agent.destroy();
    const tls: ClusterTls = rotated ? { ...access.tls, cert: credentials.cert, key: credentials.key } : access.tls;
    const options = {
      ...tls,
      keepAlive: true,
      maxSockets: this.maxSockets,
      maxFreeSockets: this.maxSockets,
      scheduling: 'lifo' as const,
    };
    const agent = access.createAgent?.(options) ?? (access.server.startsWith('https:') ? new https.Agent(options) : new http.Agent(options));
    this.current = { agent, tls: wanted };
    return agent;
  }

  destroy(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }
}
