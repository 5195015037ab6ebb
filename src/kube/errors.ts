// User-facing messages of Kubernetes access: one line each, naming the object, the verb and
// the API server's reason. Composed by api-error.ts.

/** What a request was about, for messages: "updating HTTPRoute default/x". */
export interface ApiTarget {
  /** The Kubernetes verb: get, list, create, update, patch, delete. */
  verb: string;
  /** Kind as users write it (HTTPRoute, Service, Rollout). */
  kind: string;
  /** Plural resource name (httproutes) and its API group ('' for core), for RBAC hints. */
  resource: string;
  group: string;
  namespace?: string;
  name?: string;
}

const GERUNDS: Record<string, string> = {
  get: 'reading',
  list: 'listing',
  create: 'creating',
  update: 'updating',
  patch: 'patching',
  delete: 'deleting',
  watch: 'watching',
};

export const objectLabel = (t: ApiTarget): string =>
  t.name !== undefined ? `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}` : `${t.kind}s${t.namespace ? ` in ${t.namespace}` : ''}`;

export const doing = (t: ApiTarget): string => `${GERUNDS[t.verb] ?? t.verb} ${objectLabel(t)}`;

const qualified = (t: ApiTarget): string => (t.group ? `${t.resource}.${t.group}` : t.resource);

export const notFound = (t: ApiTarget): string =>
  t.name !== undefined ? `${objectLabel(t)} not found` : `${doing(t)}: the API server does not serve ${qualified(t)} (is its CRD installed?)`;
export const forbidden = (t: ApiTarget): string =>
  `${doing(t)}: forbidden: RBAC must allow verb "${t.verb}" on "${qualified(t)}"${t.namespace ? ` in namespace "${t.namespace}"` : ' cluster-wide'}`;
export const unauthorized = (t: ApiTarget): string => `${doing(t)}: unauthorized: the API server rejected the credentials (expired token?)`;
export const conflictsExhausted = (t: ApiTarget, attempts: number): string =>
  `${doing(t)}: still conflicting after ${attempts} attempts: another writer keeps changing it`;
export const invalid = (t: ApiTarget, message: string): string => `${doing(t)}: rejected as invalid: ${message}`;
export const throttled = (t: ApiTarget, message: string): string => `${doing(t)}: the API server is throttling requests (429): ${message}`;
export const serverError = (t: ApiTarget, code: number, reason: string, message: string): string =>
  `${doing(t)}: API server error ${code}${reason ? ` ${reason}` : ''}: ${message}`;
export const otherStatus = (t: ApiTarget, code: number, message: string): string => `${doing(t)}: API server answered ${code}: ${message}`;
export const timedOut = (t: ApiTarget, ms: number): string => `${doing(t)}: no answer from the API server within ${ms} ms`;
export const unreachable = (t: ApiTarget, server: string, detail: string): string => `${doing(t)}: API server ${server} unreachable: ${detail}`;
export const abandoned = (t: ApiTarget): string => `${doing(t)}: abandoned: the caller went away or its deadline passed`;
export const overloaded = (queued: number): string =>
  `too many Kubernetes API requests are queued in this process (${queued}, the limit): try again later or raise --kube-qps/--kube-burst`;
export const truncatedResponse = 'the response ended before its announced length';
export const responseTooLarge = (limit: number): string => `the response is larger than ${limit} bytes`;

// Cluster access (cluster-access.ts): where the server, TLS material and credentials come from.
export const NO_KUBECONFIG = 'no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, or run in a cluster';
export const needsClientNode = (why: string): string => `this Kubernetes configuration needs @kubernetes/client-node: ${why}`;
export const kubeconfigList = (files: number): string => `KUBECONFIG lists ${files} files (merging them is client-node's)`;
export const WINDOWS_HOME = "finding the kubeconfig on Windows (home directories, WSL) is client-node's";
export const unsupportedField = (owner: string, field: string): string => `${owner} sets "${field}"`;
export const kubeconfigUnreadable = (path: string, detail: string): string => `cannot read kubeconfig ${path}: ${detail}`;
export const kubeconfigInvalid = (path: string, detail: string): string => `kubeconfig ${path}: ${detail}`;
export const noCurrentCluster = (path: string): string => `kubeconfig ${path} has no current cluster`;
export const contextNotFound = (path: string, context: string): string => `kubeconfig ${path}: context "${context}" not found`;
export const clusterNotFound = (path: string, cluster: string, context: string): string =>
  `kubeconfig ${path}: cluster "${cluster}" (of context "${context}") not found`;
export const userNotFound = (path: string, user: string, context: string): string =>
  `kubeconfig ${path}: user "${user}" (of context "${context}") not found`;
export const inClusterContext = (context: string): string => `the in-cluster configuration has no context "${context}"`;
export const credentialFileUnreadable = (owner: string, field: string, file: string, detail: string): string =>
  `${owner}: cannot read ${field} ${file}: ${detail}`;
export const httpWithoutSkipTls = (owner: string, server: string): string =>
  `${owner}: server ${server} is plain http://, which client-node only allows with insecure-skip-tls-verify: true`;
export const kubeconfigNotYaml = (path: string, code: string, line?: number, col?: number): string =>
  `kubeconfig ${path} is not valid YAML (${code}${line !== undefined ? ` at line ${line}, column ${col}` : ''})`;
