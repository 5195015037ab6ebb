import type { IncomingMessage, ServerResponse } from 'node:http';

import { parse as parseYaml } from 'yaml';

import * as discovery from './discovery.js';
import type { Faults, RequestInfo, Verb } from './faults.js';
import { PATCH_TYPES, applyPatch, type PatchType } from './patch.js';
import { decodeProtobuf, openApiV2Protobuf } from './protobuf.js';
import { apiVersionOf, findByPath, splitApiVersion } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { StatusError, badRequest, conflict, failure, notFound, type KubeStatus } from './status.js';
import { asVersion, type Store } from './store.js';
import { isPlainObject, type KubeObject } from './types.js';
import type { WatchHub } from './watch.js';
import { isTokenReviewPath, type TokenAuthority } from './token-review.js';

export interface RequestLogEntry {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** The query string without '?', '' if none. */
  query: string;
  status: number;
  /** The Kubernetes verb of a resource request (get, list, watch, create, update, patch, delete); absent for discovery. */
  verb?: Verb;
}

export interface HandlerContext {
  store: Store;
  watches: WatchHub;
  faults: Faults;
  requestLog: RequestLogEntry[];
  requestLogLimit: number;
  tokens: TokenAuthority;
  /** host:port, for the /api document. */
  serverAddress(): string;
  /** Counts each resource request by verb. */
  onResourceRequest?(verb: Verb): void;
}

interface ResourceRequest extends RequestInfo {
  version: string;
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
}

const NOT_FOUND_MESSAGE = 'the server could not find the requested resource';

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: KubeStatus): void {
  sendJson(res, status.code, status);
}

function pageNotFound(): StatusError {
  return new StatusError(failure(404, NOT_FOUND_MESSAGE, 'NotFound', {}));
}

function methodNotAllowed(): StatusError {
  return new StatusError(failure(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed', {}));
}

const UNSUPPORTED_BODY = 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf';

/**
 * A create/update/delete body: JSON or YAML like the real server, or protobuf for the few kinds
 * `protobuf.ts` reads (kubectl sends built-in types as protobuf); other protobuf bodies are 415.
 */
function parseBody(raw: Buffer, contentType: string): Record<string, unknown> {
  let parsed: unknown;
  if (contentType === 'application/vnd.kubernetes.protobuf') {
    parsed = decodeProtobuf(raw);
    if (parsed === undefined) throw new StatusError(failure(415, `${UNSUPPORTED_BODY} (this server reads protobuf only for Namespace and ConfigMap)`, 'UnsupportedMediaType'));
  } else if (contentType === 'application/yaml') {
    try {
      parsed = parseYaml(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`couldn't get version/kind; yaml parse error: ${(err as Error).message}`);
    }
  } else if (contentType === 'application/json' || contentType === '*/*') {
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  } else {
    throw new StatusError(failure(415, UNSUPPORTED_BODY, 'UnsupportedMediaType'));
  }
  if (!isPlainObject(parsed)) throw badRequest(`the object provided is unrecognized (must be of type ${typeof parsed})`);
  return parsed;
}

/** Like kube-apiserver's limit on request bodies (3 MiB): a huge POST must not exhaust memory. */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_REQUEST_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request handler: discovery documents and the REST verbs on every resource in the table. */
export function createHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verb: { value?: Verb } = {};
    const log = () => {
      const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), status: res.statusCode };
      if (verb.value) {
        entry.verb = verb.value;
        ctx.onResourceRequest?.(verb.value);
      }
      ctx.requestLog.push(entry);
      if (ctx.requestLog.length > ctx.requestLogLimit) ctx.requestLog.splice(0, ctx.requestLog.length - ctx.requestLogLimit);
    };
    readBody(req)
      .then((body) => {
        try {
          route(ctx, req, res, url, body, verb);
        } catch (err) {
          if (res.headersSent) {
            res.destroy();
          } else {
            sendStatus(res, err instanceof StatusError ? err.status : failure(500, `Internal error occurred: ${(err as Error).message}`, 'InternalError'));
          }
        }
        log();
      })
      .catch((err: unknown) => {
        if (!(err instanceof BodyTooLarge)) return res.destroy();
        // Answer, then close: the rest of the body is not read.
        res.setHeader('Connection', 'close');
        sendStatus(res, failure(413, `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`, 'RequestEntityTooLarge'));
        res.on('finish', () => req.destroy());
        log();
      });
  };
}

interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  plural: string;
  name?: string;
  subresource?: string;
}

/**
 * The document for a discovery/OpenAPI/version path, `null` for a resource path, 404 otherwise.
 * `/api/<v>` and `/apis/<g>/<v>` are discovery; anything longer names a resource.
 */
function nonResourceDocument(ctx: HandlerContext, segments: string[]): unknown {
  const [root, ...rest] = segments;
  const found = (doc: unknown) => {
    if (doc === undefined) throw pageNotFound();
    return doc;
  };
  switch (root) {
    case 'version':
      return rest.length === 0 ? discovery.versionInfo() : found(undefined);
    case 'api':
      if (rest.length === 0) return discovery.coreVersions(ctx.serverAddress());
      return rest.length === 1 ? found(discovery.resourceList('', rest[0]!)) : null;
    case 'apis':
      if (rest.length === 0) return discovery.groupList();
      if (rest.length === 1) return found(discovery.group(rest[0]!));
      return rest.length === 2 ? found(discovery.resourceList(rest[0]!, rest[1]!)) : null;
    case 'openapi': {
      const [v, prefix, ...gv] = rest;
      if (v !== 'v3') return found(undefined);
      if (prefix === undefined) return discovery.openApiV3Index();
      if (prefix === 'api' && gv.length === 1) return found(discovery.openApiV3Document('', gv[0]!));
      if (prefix === 'apis' && gv.length === 2) return found(discovery.openApiV3Document(gv[0]!, gv[1]!));
      return found(undefined);
    }
    default:
      return found(undefined);
  }
}

/** JSON, or protobuf when the client asks for it (older kubectl, e.g. 1.20, reads only that). */
function sendOpenApiV2(req: IncomingMessage, res: ServerResponse): void {
  const doc = discovery.openApiV2Document();
  if (!discovery.acceptsOpenApiV2Protobuf(req.headers.accept)) return sendJson(res, 200, doc);
  const bytes = openApiV2Protobuf(doc);
  res.writeHead(200, { 'Content-Type': discovery.OPENAPI_V2_PROTOBUF, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** `/api/v1/...` or `/apis/<g>/<v>/...`, then `[namespaces/<ns>/]<plural>[/<name>[/<subresource>]]`. */
function parseResourcePath(segments: string[]): ResourcePath {
  const [root, ...rest] = segments;
  const [group, version, ...path] = root === 'api' ? ['', ...rest] : rest;
  let namespace: string | undefined;
  let resource = path;
  if (path[0] === 'namespaces' && path.length >= 3) {
    namespace = path[1];
    resource = path.slice(2);
  }
  const [plural, name, subresource, ...extra] = resource;
  if (extra.length > 0 || !plural) throw pageNotFound();
  return {
    group: group!,
    version: version!,
    plural,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

function route(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, seen: { value?: Verb }): void {
  const down = ctx.faults.unavailable();
  if (down) return sendStatus(res, down);

  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments.length === 1 && ['healthz', 'livez', 'readyz'].includes(segments[0]!)) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return;
  }
  if (segments.join('/') === 'openapi/v2') return sendOpenApiV2(req, res);
  if (isTokenReviewPath(segments) && req.method === 'POST') return sendJson(res, 201, ctx.tokens.review(parseBody(body, (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase())));
  const doc = nonResourceDocument(ctx, segments);
  if (doc !== null) return sendJson(res, 200, doc);

  const path = parseResourcePath(segments);
  const def = findByPath(path.group, path.version, path.plural);
  if (!def || (path.namespace !== undefined && !def.namespaced)) throw pageNotFound();
  if (path.subresource !== undefined && (path.subresource !== 'status' || !def.statusSubresource)) throw pageNotFound();

  const watch = url.searchParams.get('watch');
  const verb = verbOf(req.method ?? 'GET', path.name !== undefined, watch === 'true' || watch === '1');
  if (verb) seen.value = verb;
  if (!verb || (path.subresource !== undefined && !['get', 'update', 'patch'].includes(verb))) throw methodNotAllowed();

  const { group: _g, plural: _p, ...where } = path;
  const info: ResourceRequest = {
    ...where,
    verb,
    def,
    query: url.searchParams,
    body,
    contentType: (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase(),
  };
  const injected = ctx.faults.check(info);
  if (injected) return sendStatus(res, injected);
  serveResource(ctx, res, info);
}

function verbOf(method: string, hasName: boolean, watch: boolean): Verb | undefined {
  switch (method) {
    case 'GET':
      return hasName ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return hasName ? undefined : 'create';
    case 'PUT':
      return hasName ? 'update' : undefined;
    case 'PATCH':
      return hasName ? 'patch' : undefined;
    case 'DELETE':
      return hasName ? 'delete' : undefined;
    default:
      return undefined;
  }
}

function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  const bad = values.find((v) => v !== 'All');
  if (bad !== undefined) throw badRequest(`dryRun: Unsupported value: "${bad}": supported values: "All"`);
  return values.length > 0;
}

function serveResource(ctx: HandlerContext, res: ServerResponse, r: ResourceRequest): void {
  const { store } = ctx;
  const { def } = r;
  const dryRun = dryRunOf(r.query);
  const out = (o: KubeObject) => asVersion(o, def, r.version);
  switch (r.verb) {
    case 'get': {
      const obj = store.get(def, r.namespace, r.name!);
      if (!obj) throw notFound(def, r.name!);
      return sendJson(res, 200, out(obj));
    }
    case 'list': {
      const rv = r.query.get('resourceVersion');
      if (rv && /^\d+$/.test(rv)) store.checkNotAhead(Number(rv));
      const labels = parseLabelSelector(r.query.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(r.query.get('fieldSelector') ?? undefined, def);
      const items = store
        .list(def, r.namespace)
        .filter((o) => labels(o) && fields(o))
        .map((o) => {
          const item = out(o);
          // Built-in lists carry kind/apiVersion only on the list, custom resource lists on every item.
          if (def.custom) return item;
          const { apiVersion: _a, kind: _k, ...rest } = item;
          return rest;
        });
      return sendJson(res, 200, { apiVersion: apiVersionOf(def.group, r.version), kind: `${def.kind}List`, metadata: { resourceVersion: store.resourceVersion }, items });
    }
    case 'watch': {
      const labels = parseLabelSelector(r.query.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(r.query.get('fieldSelector') ?? undefined, def);
      const timeout = r.query.get('timeoutSeconds');
      const rv = r.query.get('resourceVersion');
      return ctx.watches.serve(res, {
        def,
        version: r.version,
        ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
        matches: (o) => labels(o) && fields(o),
        ...(rv !== null ? { resourceVersion: rv } : {}),
        bookmarks: r.query.get('allowWatchBookmarks') === 'true',
        ...(timeout !== null ? { timeoutSeconds: Number(timeout) } : {}),
      });
    }
    case 'create': {
      const obj = bodyObject(r);
      return sendJson(res, 201, out(store.create(def, obj, { dryRun })));
    }
    case 'update': {
      const obj = bodyObject(r);
      return sendJson(res, 200, out(store.update(def, obj, { mode: r.subresource === 'status' ? 'status' : 'main', allowUnconditional: !def.custom, dryRun })));
    }
    case 'patch':
      return sendJson(res, 200, out(patch(ctx, r, dryRun)));
    case 'delete': {
      const opts = r.body.toString('utf8').trim() ? parseBody(r.body, r.contentType) : {};
      const pre = isPlainObject(opts['preconditions']) ? (opts['preconditions'] as { resourceVersion?: string; uid?: string }) : undefined;
      return sendJson(res, 200, out(store.delete(def, r.namespace, r.name!, pre, dryRun)));
    }
  }
}

/** The request body as an object for this resource, namespace and name taken from the URL. */
function bodyObject(r: ResourceRequest): KubeObject {
  const { def } = r;
  const body = parseBody(r.body, r.contentType);
  if (body['kind'] !== undefined && body['kind'] !== def.kind) {
    throw badRequest(`the kind of the provided object (${String(body['kind'])}) does not match the resource (${def.kind})`);
  }
  if (typeof body['apiVersion'] === 'string' && splitApiVersion(body['apiVersion']).group !== def.group) {
    throw badRequest(`the API version in the data (${body['apiVersion']}) does not match the expected API group (${def.group || 'core'})`);
  }
  const metadata = isPlainObject(body['metadata']) ? { ...body['metadata'] } : {};
  if (def.namespaced) {
    if (metadata['namespace'] !== undefined && metadata['namespace'] !== '' && metadata['namespace'] !== r.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (r.namespace === undefined) throw methodNotAllowed();
    metadata['namespace'] = r.namespace;
  }
  if (r.name !== undefined) {
    if (metadata['name'] === undefined || metadata['name'] === '') metadata['name'] = r.name;
    else if (metadata['name'] !== r.name) {
      throw badRequest(`the name of the object (${String(metadata['name'])}) does not match the name on the URL (${r.name})`);
    }
  }
  return { ...body, apiVersion: apiVersionOf(def.group, r.version), kind: def.kind, metadata };
}

const PATCH_CONTENT_TYPES: ReadonlySet<string> = new Set(Object.values(PATCH_TYPES));

function unsupportedPatch(custom: boolean): StatusError {
  const accepted = custom ? 'application/json-patch+json, application/merge-patch+json' : [...PATCH_CONTENT_TYPES].join(', ');
  return new StatusError(failure(415, `the body of the request was in an unknown format - accepted media types include: ${accepted}`, 'UnsupportedMediaType'));
}

function patch(ctx: HandlerContext, r: ResourceRequest, dryRun: boolean): KubeObject {
  const { def } = r;
  const { store } = ctx;
  if (!PATCH_CONTENT_TYPES.has(r.contentType)) throw unsupportedPatch(def.custom);
  // Like the real server: strategic merge needs the Go types, so custom resources refuse it.
  if (r.contentType === PATCH_TYPES.strategic && def.custom) throw unsupportedPatch(true);
  let patchDoc: unknown;
  try {
    patchDoc = JSON.parse(r.body.toString('utf8'));
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  const current = store.get(def, r.namespace, r.name!);
  if (!current) throw notFound(def, r.name!);
  const patched = applyPatch(r.contentType as PatchType, asVersion(current, def, r.version), patchDoc);
  if (!isPlainObject(patched) || !isPlainObject(patched['metadata'])) throw badRequest('the patched object is not a valid object');
  const result = patched as KubeObject;
  const rv = result.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(def, r.name!);
  result.metadata = { ...result.metadata, name: r.name!, resourceVersion: current.metadata.resourceVersion! };
  if (def.namespaced) result.metadata.namespace = r.namespace!;
  return store.update(def, result, { mode: r.subresource === 'status' ? 'status' : 'main', allowUnconditional: true, dryRun });
}
