import { accessSync, readFileSync } from 'node:fs';
import type * as http from 'node:http';
import type * as https from 'node:https';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

import * as msg from './errors.js';

// Server URL, TLS material and credentials for the common configurations, read the way
// @kubernetes/client-node 1.4 reads them (KubeConfig.loadFromFile / loadFromDefault) but without
// loading it: its KubeConfig pulls in all generated API code, most of the plugin's start-up.
// Whatever this cannot reproduce exactly is NeedsClientNode, and the caller uses client-node.

export interface ClusterTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface Credentials {
  /** Headers to add to one request (Authorization, Impersonate-User, Impersonate-Group ...). */
  headers: Record<string, string>;
  /** A client certificate that replaces tls.cert/key (exec plugins rotate them; only the client-node fallback sets these). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface ClusterAccess {
  /** API server base URL without trailing slash, e.g. "https://10.96.0.1:443". */
  readonly server: string;
  /** TLS material for the process's one keep-alive agent (unused for an http:// server). */
  readonly tls: ClusterTls;
  /** Credentials for one request; a token file is re-read when it may have rotated (at most once a minute, like client-go), never per request. */
  credentials(): Credentials | Promise<Credentials>;
  /** Builds the agent when plain http/https agents will not do (proxies: only the client-node fallback sets this). */
  createAgent?(options: https.AgentOptions): http.Agent;
}

export interface LoadOptions {
  /** Explicit file (--kubeconfig); wins over KUBECONFIG. */
  kubeconfig?: string;
  /** Context name override. */
  context?: string;
  /** Default process.env (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT). */
  env?: NodeJS.ProcessEnv;
  /** Default /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
  /** Clock in ms for the token file's re-read interval (tests); default Date.now. */
  now?: () => number;
}

/** What needs @kubernetes/client-node's KubeConfig instead. */
export class NeedsClientNode extends Error {
  constructor(readonly why: string) {
    super(msg.needsClientNode(why));
    this.name = 'NeedsClientNode';
  }
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// client-node's FileAuth and client-go's cached token source: rotation is noticed within a minute.
const TOKEN_REREAD_MS = 60_000;
const CLUSTER_FIELDS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
const USER_FIELDS = new Set(['token', 'token-file', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'as', 'extensions']);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

export async function loadClusterAccess(options: LoadOptions = {}): Promise<ClusterAccess> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  if (options.kubeconfig) return fromKubeconfig(options.kubeconfig, options.context, now);
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    if (files.length !== 1) throw new NeedsClientNode(msg.kubeconfigList(files.length));
    return fromKubeconfig(files[0] as string, options.context, now);
  }
  if (process.platform === 'win32') throw new NeedsClientNode(msg.WINDOWS_HOME);
  const home = env.HOME;
  if (home && exists(home) && exists(join(home, '.kube', 'config'))) return fromKubeconfig(join(home, '.kube', 'config'), options.context, now);
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = env;
  if (host && port && exists(join(dir, 'token'))) {
    // client-node's in-cluster config has this one context.
    if (options.context && options.context !== 'inClusterContext') throw new Error(msg.inClusterContext(options.context));
    const owner = `in-cluster configuration (${dir})`;
    // client-node (loadFromCluster) takes these ports for plain http.
    const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
    const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    const ca = readCredential(owner, 'certificate-authority', join(dir, 'ca.crt'));
    return access(owner, server, false, { ca }, {}, tokenFile(owner, join(dir, 'token'), now));
  }
  throw new Error(msg.NO_KUBECONFIG);
}

async function fromKubeconfig(file: string, contextOverride: string | undefined, now: () => number): Promise<ClusterAccess> {
  const text = read(file, (detail) => msg.kubeconfigUnreadable(file, detail)).toString('utf8');
  let config: Obj;
  try {
    config = obj(await parseKubeconfig(text));
  } catch (err) {
    // No cause and no message: the parser quotes the offending line, which may hold a token.
    const { code, linePos } = err as { code?: string; linePos?: [{ line: number; col: number }] };
    throw new Error(msg.kubeconfigNotYaml(file, code ?? 'YAML_ERROR', linePos?.[0].line, linePos?.[0].col));
  }
  const clusters = named(config, 'clusters', 'cluster', 'server', file);
  const contexts = named(config, 'contexts', 'context', 'cluster', file);
  const users = named(config, 'users', 'user', undefined, file);
  const contextName = contextOverride || str(config['current-context']);
  if (!contextName) throw new Error(msg.noCurrentCluster(file));
  const context = contexts.get(contextName);
  if (!context) throw new Error(msg.contextNotFound(file, contextName));
  const clusterName = String(context.cluster);
  const cluster = clusters.get(clusterName);
  if (!cluster) throw new Error(msg.clusterNotFound(file, clusterName, contextName));
  const userName = str(context.user);
  const user = userName === undefined ? {} : users.get(userName);
  if (!user) throw new Error(msg.userNotFound(file, String(userName), contextName));

  const clusterOwner = `kubeconfig ${file} cluster "${clusterName}"`;
  const userOwner = `kubeconfig ${file} user "${userName ?? ''}"`;
  const unsupported = (owner: string, o: Obj, known: Set<string>): void => {
    const field = Object.keys(o).find((k) => str(o[k]) !== undefined && o[k] !== false && !known.has(k));
    if (field) throw new NeedsClientNode(msg.unsupportedField(owner, field));
  };
  unsupported(clusterOwner, cluster, CLUSTER_FIELDS);
  unsupported(userOwner, user, USER_FIELDS);

  // client-node resolves certificate and key paths against the kubeconfig's directory (makePathsAbsolute).
  const root = dirname(file);
  const material = (owner: string, o: Obj, field: string): Buffer | undefined => {
    const path = str(o[field]);
    if (path) return readCredential(owner, field, isAbsolute(path) ? path : join(root, path));
    const data = str(o[`${field}-data`]);
    return data ? Buffer.from(data, 'base64') : undefined;
  };
  const skipTls = cluster['insecure-skip-tls-verify'] === true;
  const tls: ClusterTls = {
    ca: material(clusterOwner, cluster, 'certificate-authority'),
    cert: material(userOwner, user, 'client-certificate'),
    key: material(userOwner, user, 'client-key'),
    ...(skipTls ? { rejectUnauthorized: false } : {}),
    ...(str(cluster['tls-server-name']) ? { servername: String(cluster['tls-server-name']) } : {}),
  };
  const headers: Record<string, string> = {};
  if (str(user.as)) headers['Impersonate-User'] = String(user.as);
  // A bearer token wins over basic auth, as in client-node. "token-file" is client-node's own
  // field (read once at load, relative to the working directory); "tokenFile" is client-go's,
  // which client-node ignores: read as client-go does, relative to the kubeconfig, re-read.
  const token = str(user.token) ?? (str(user['token-file']) ? readToken(userOwner, 'token-file', String(user['token-file'])) : undefined);
  const tokenPath = str(user.tokenFile);
  const bearer = token !== undefined || !tokenPath ? () => token : tokenFile(userOwner, isAbsolute(tokenPath) ? tokenPath : join(root, tokenPath), now);
  if (str(user.username)) headers.Authorization = `Basic ${Buffer.from(`${String(user.username)}:${str(user.password) ?? ''}`).toString('base64')}`;
  return access(clusterOwner, String(cluster.server).replace(/\/$/, ''), skipTls, tls, headers, bearer);
}

/**
 * JSON (`kubectl config view -o json`, a ServiceAccount kubeconfig made by a script) is read as
 * it is; anything else loads the YAML parser, which costs the plugin a few MB of memory.
 */
async function parseKubeconfig(text: string): Promise<unknown> {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // Flow-style YAML that merely looks like JSON: the YAML parser decides.
    }
  }
  // Bundled (esbuild), the CommonJS package may arrive as `default` only; under node's loader, with named exports.
  const yaml = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  const { parse } = yaml.default ?? yaml;
  // merge: js-yaml (client-node's parser) merges "<<" keys; logLevel: a library does not warn on the console.
  return parse(text, { merge: true, logLevel: 'error' });
}

/** The named entries of a list, first of a name wins; every entry must be complete, used or not (client-node's newClusters etc.). */
function named(config: Obj, list: string, item: string, required: string | undefined, file: string): Map<string, Obj> {
  const found = new Map<string, Obj>();
  const entries = config[list];
  if (!Array.isArray(entries)) return found;
  entries.forEach((entry: unknown, i) => {
    const e = obj(entry);
    const missing = !e.name ? 'name' : !required ? undefined : !e[item] ? item : !obj(e[item])[required] ? `${item}.${required}` : undefined;
    if (missing) throw new Error(msg.kubeconfigInvalid(file, `${list}[${i}].${missing} is missing`));
    if (!found.has(String(e.name))) found.set(String(e.name), obj(e[item]));
  });
  return found;
}

function access(owner: string, server: string, skipTls: boolean, tls: ClusterTls, headers: Record<string, string>, bearer: () => string | undefined): ClusterAccess {
  if (server.startsWith('http:') && !skipTls) throw new Error(msg.httpWithoutSkipTls(owner, server));
  return {
    server,
    tls,
    credentials() {
      const token = bearer();
      return { headers: token ? { ...headers, Authorization: `Bearer ${token}` } : { ...headers } };
    },
  };
}

/** A token file read now and again when a minute has passed since (kubelet rotates projected tokens long before they expire). */
function tokenFile(owner: string, path: string, now: () => number): () => string | undefined {
  let token = readToken(owner, 'tokenFile', path);
  let readAt = now();
  return () => {
    if (now() - readAt > TOKEN_REREAD_MS) {
      readAt = now();
      try {
        token = readToken(owner, 'tokenFile', path);
      } catch {
        // As client-go: keep the last token; the API server says whether it still holds.
      }
    }
    return token;
  };
}

const readToken = (owner: string, field: string, path: string): string | undefined => readCredential(owner, field, path).toString('utf8').trim() || undefined;
const readCredential = (owner: string, field: string, path: string): Buffer => read(path, (detail) => msg.credentialFileUnreadable(owner, field, path, detail));

// Synchronous: read once at start-up, and a token file at most once a minute.
function read(path: string, failure: (detail: string) => string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(failure((err as Error).message), { cause: err });
  }
}

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
