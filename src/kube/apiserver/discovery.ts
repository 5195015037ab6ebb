import { apiVersionOf, RESOURCES, servedGroups } from './resources.js';

/**
 * Legacy (unaggregated) discovery documents. kubectl asks for aggregated discovery first and
 * falls back to these when the answer is plain `application/json`.
 */
const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-rollouts-companion',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch}`,
  };
}

export function coreVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(name: string, versions: string[]) {
  const gvs = versions.map((version) => ({ groupVersion: apiVersionOf(name, version), version }));
  return { name, versions: gvs, preferredVersion: gvs[0]! };
}

export function groupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups().map((g) => groupDoc(g.name, g.versions)) };
}

/** The APIGroup document for /apis/<group>, or undefined if the group is not served. */
export function group(name: string): unknown {
  const g = servedGroups().find((x) => x.name === name);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}

/** The APIResourceList for a group/version ('' group = /api/v1), or undefined if not served. */
export function resourceList(groupName: string, version: string): unknown {
  const defs = RESOURCES.filter((r) => r.group === groupName && r.versions.includes(version));
  if (defs.length === 0) return undefined;
  const resources = defs.flatMap((r) => {
    const main = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    };
    const status = { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: SUBRESOURCE_VERBS };
    return r.statusSubresource ? [main, status] : [main];
  });
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(groupName, version), resources };
}

/**
 * The OpenAPI v2 document: no paths, no definitions. Older kubectl (checked with Debian bookworm's
 * 1.20) validates `create`/`apply` against /openapi/v2 and fails without it; finding no schema for
 * a kind, it skips client-side validation and builds patches from its compiled-in types (built-ins)
 * or as merge patches (custom resources), as it does for CRDs without a schema. Served as JSON, or
 * as protobuf (`openApiV2Protobuf` in protobuf.ts) when asked for — what kubectl 1.20 asks for.
 */
export function openApiV2Document(): OpenApiV2Document {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: versionInfo()['gitVersion']! }, paths: {}, definitions: {} };
}

export interface OpenApiV2Document {
  swagger: string;
  info: { title: string; version: string };
  paths: Record<string, never>;
  definitions: Record<string, never>;
}

/**
 * The protobuf media type of /openapi/v2 as current servers answer it. Clients ask for it as
 * `...spec.v2@v1.0+protobuf` (kubectl 1.20) or `...spec.v2.v1.0+protobuf`; `@` is not valid in a
 * Content-Type, which client-go parses (it then fails with "mime: unexpected content").
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export function acceptsOpenApiV2Protobuf(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((t) => /^application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf$/.test(t.split(';')[0]!.trim().toLowerCase()));
}

/**
 * A skeletal OpenAPI v3 (one document per group/version, no schemas). kubectl 1.2x refuses to
 * create or apply without OpenAPI; declaring `fieldValidation` on each PATCH makes it leave
 * validation to the server (which this one does not do) instead of validating client-side.
 */
export function openApiV3Index(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of RESOURCES) {
    for (const v of r.versions) {
      const path = r.group ? `apis/${r.group}/${v}` : `api/${v}`;
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}` };
    }
  }
  return { paths };
}

export function openApiV3Document(groupName: string, version: string): unknown {
  const defs = RESOURCES.filter((r) => r.group === groupName && r.versions.includes(version));
  if (defs.length === 0) return undefined;
  const prefix = groupName ? `/apis/${groupName}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const item = `${prefix}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[item] = {
      patch: {
        'x-kubernetes-group-version-kind': { group: r.group, version, kind: r.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
