import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import type { KubeConfig } from '@kubernetes/client-node';

import { kubeConfigForServer, writeKubeconfigFile } from '../kubeconfig.js';
import { Faults, type Verb } from './faults.js';
import { GatewaySimulator } from './gateway-simulator.js';
import { gatewayApiPruner, type GatewayApiCrds } from './pruning.js';
import { createHandler, type RequestLogEntry } from './handler.js';
import { splitApiVersion } from './resources.js';
import { asVersion, Store } from './store.js';
import type { KubeObject } from './types.js';
import { WatchHub } from './watch.js';
import { TokenAuthority } from './token-review.js';

export type { FaultRule, Faults, RequestInfo, Verb, DownMode } from './faults.js';
export type { RequestLogEntry } from './handler.js';
export type { KubeStatus } from './status.js';
export { StatusError } from './status.js';
export type { KubeMeta, KubeObject } from './types.js';
export { SIMULATED_GATEWAY_CONTROLLER } from './gateway-simulator.js';
export { RESOURCES, type ResourceDef } from './resources.js';
export { GatewayApiChannel, type GatewayApiCrds } from './pruning.js';
export { serviceAccountSubject, API_SERVER_AUDIENCE, type TokenAuthority, type TokenSubject } from './token-review.js';

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Run the simulated gateway controller that accepts routes (see gateway-simulator.ts). Default off. */
  simulateGateway?: boolean | { delayMs?: number };
  /** How often watches that asked for bookmarks get one. Default 5000. */
  bookmarkIntervalMs?: number;
  /** Events kept for watch replay before the oldest are compacted away. Default 10000. */
  historyLimit?: number;
  /** Prune fields the given Gateway API CRDs do not know (as a cluster with them installed does). Default: all kept. */
  gatewayApi?: GatewayApiCrds;
  /** Entries kept in `requestLog` (oldest dropped first), so a long dev session does not grow without bound. Default 10000. */
  requestLogLimit?: number;
}

export interface ApiServer {
  /** http://HOST:PORT */
  readonly url: string;
  /** A client-node KubeConfig for `url`, namespace default. */
  kubeConfig(): KubeConfig;
  /** A kubeconfig file usable by kubectl and client-node (mode 0600). */
  writeKubeconfig(path: string): Promise<void>;
  /** Stops listening, ends open watches and the simulator's timers. */
  close(): Promise<void>;

  // Direct access for seeding and inspecting: bypasses HTTP (and faults) but goes through the same
  // store logic (resourceVersion, generation, watch events). Errors are thrown as StatusError.
  /** Like POST, but keeps `status`, defaults the namespace to `default` and creates it if missing. */
  create(obj: KubeObject): KubeObject;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** Replaces the whole object, status included; checks metadata.resourceVersion only if it is set. */
  update(obj: KubeObject): KubeObject;
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Create-or-replace (ignoring resourceVersion, keeping status), for seeding from YAML documents; namespaces as for create. */
  apply(docs: KubeObject[]): void;
  readonly faults: Faults;
  /** HTTP requests answered, in completion order (watches when their stream starts); the last `requestLogLimit`. */
  readonly requestLog: RequestLogEntry[];
  /** TCP connections accepted since start (or since `resetCounters`): keep-alive clients make few. */
  readonly connectionsAccepted: number;
  /** Resource requests answered since start (or since `resetCounters`), by verb. */
  requestsByVerb(): Partial<Record<Verb, number>>;
  /** Zeroes the connection count and the verb counts (not the request log). */
  resetCounters(): void;
  /** Issues the bearer tokens its TokenReview endpoint answers for. */
  readonly tokens: TokenAuthority;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const store = new Store(opts.historyLimit, opts.gatewayApi ? gatewayApiPruner(opts.gatewayApi) : undefined);
  const watches = new WatchHub(store, opts.bookmarkIntervalMs ?? 5000);
  const requestLog: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const byVerb: Partial<Record<Verb, number>> = {};
  let server: Server;
  let port = opts.port ?? 0;

  const listen = async () => {
    server = createServer(handler);
    server.on('connection', (s: Socket) => {
      connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
  };
  const stopListening = async () => {
    watches.endAll(true);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  const faults = new Faults({
    dropWatches: (abrupt) => watches.endAll(abrupt),
    compact: () => store.compact(),
    touch: (def, namespace, name, mutate) => void store.touch(def, namespace, name, mutate),
    stopListening,
    startListening: listen,
  });
  const tokens = new TokenAuthority();
  const handler = createHandler({
    store,
    watches,
    faults,
    tokens,
    requestLog,
    requestLogLimit: opts.requestLogLimit ?? 10_000,
    serverAddress: () => `${host}:${port}`,
    onResourceRequest: (verb) => (byVerb[verb] = (byVerb[verb] ?? 0) + 1),
  });
  await listen();

  const sim = opts.simulateGateway ? new GatewaySimulator(store, opts.simulateGateway === true ? 0 : (opts.simulateGateway.delayMs ?? 0)) : undefined;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  /** Seeding defaults the namespace the way kubectl does with the default context. */
  const seedable = (obj: KubeObject) => {
    const def = store.resolveKind(obj.apiVersion, obj.kind);
    return { def, obj: def.namespaced && !obj.metadata.namespace ? { ...obj, metadata: { ...obj.metadata, namespace: 'default' } } : obj };
  };
  /** Objects come back labelled with the apiVersion they were asked for. */
  const as = (apiVersion: string, obj: KubeObject) => {
    const def = store.resolveKind(apiVersion, obj.kind);
    return asVersion(obj, def, splitApiVersion(apiVersion).version);
  };
  let closed = false;

  return {
    url,
    kubeConfig: () => kubeConfigForServer(url),
    writeKubeconfig: (path) => writeKubeconfigFile(path, url),
    close: async () => {
      if (closed) return;
      closed = true;
      sim?.close();
      await stopListening();
    },
    create: (input) => {
      const { def, obj } = seedable(input);
      return as(obj.apiVersion, store.create(def, obj, { keepStatus: true, ensureNamespace: true }));
    },
    get: (apiVersion, kind, namespace, name) => {
      const obj = store.get(store.resolveKind(apiVersion, kind), namespace, name);
      return obj && as(apiVersion, obj);
    },
    list: (apiVersion, kind, namespace) => store.list(store.resolveKind(apiVersion, kind), namespace).map((o) => as(apiVersion, o)),
    update: (obj) => as(obj.apiVersion, store.update(store.resolveKind(obj.apiVersion, obj.kind), obj, { mode: 'all', allowUnconditional: true })),
    delete: (apiVersion, kind, namespace, name) => void store.delete(store.resolveKind(apiVersion, kind), namespace, name),
    apply: (docs) => {
      for (const input of docs) {
        const { def, obj: doc } = seedable(input);
        const existing = store.get(def, doc.metadata.namespace, doc.metadata.name ?? '');
        if (existing) {
          store.update(def, { ...doc, metadata: { ...doc.metadata, resourceVersion: existing.metadata.resourceVersion! } }, { mode: 'all', allowUnconditional: true });
        } else {
          store.create(def, doc, { keepStatus: true, ensureNamespace: true });
        }
      }
    },
    faults,
    requestLog,
    get connectionsAccepted() {
      return connections;
    },
    requestsByVerb: () => ({ ...byVerb }),
    resetCounters: () => {
      connections = 0;
      for (const k of Object.keys(byVerb)) delete byVerb[k as Verb];
    },
    tokens,
  };
}
