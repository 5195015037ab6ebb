import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, StringMatch, WeightDestination } from '../routing/rollout.js';

// The gRPC contract (proto/rollouts/companion/v1/traffic_router.proto) loaded at run time,
// and the mapping between its messages and the TrafficRouterApi arguments.

export const SERVICE_NAME = 'rollouts.companion.v1.TrafficRouter';
const PROTO_FILE = 'rollouts/companion/v1/traffic_router.proto';
// rollouts.companion.v1.Version (src/grpc/version.ts): in the same definition, so server reflection lists it.
const VERSION_PROTO_FILE = 'rollouts/companion/v1/version.proto';
/** Every file of the package; reflection lists what is loaded. */
const PROTO_FILES = [PROTO_FILE, VERSION_PROTO_FILE, 'rollouts/companion/v1/step_plugin.proto'];

/** Finds proto/ from the source tree, the compiled tree or a bundle (which ships proto/ beside it). */
export function protoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.ROLLOUTS_COMPANION_PROTO_DIR,
    join(here, '..', '..', 'proto'),
    join(here, 'proto'),
    join(here, '..', 'proto'),
  ].filter((d): d is string => Boolean(d));
  const found = candidates.find((d) => existsSync(join(d, PROTO_FILE)));
  if (!found) throw new Error(`cannot find ${PROTO_FILE}; looked in ${candidates.join(', ')} (set ROLLOUTS_COMPANION_PROTO_DIR)`);
  return found;
}

let cached: protoLoader.PackageDefinition | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_FILES, {
    includeDirs: [protoRoot()],
    keepCase: false,
    longs: Number,
    enums: Number,
    defaults: true,
    oneofs: true,
  });
  return cached;
}

export function trafficRouterService(): grpc.ServiceDefinition {
  return packageDefinition()[SERVICE_NAME] as grpc.ServiceDefinition;
}

export function trafficRouterClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(trafficRouterService(), 'TrafficRouter');
}

// Message shapes as proto-loader presents them (camelCase, defaults filled in).
export interface TargetMsg {
  rolloutJson: string;
  pluginName: string;
}
export interface WeightDestinationMsg {
  weight: number;
  serviceName: string;
  podTemplateHash: string;
}
export interface StringMatchMsg {
  exact?: string;
  prefix?: string;
  regex?: string;
  kind?: 'exact' | 'prefix' | 'regex';
}
export interface SetHeaderRouteMsg {
  name: string;
  match: { headerName: string; headerValue: StringMatchMsg | null }[];
}
export interface SetMirrorRouteMsg {
  name: string;
  match: { method: StringMatchMsg | null; path: StringMatchMsg | null; headers: Record<string, StringMatchMsg> }[];
  percentage?: number;
}

export function toTarget(rollout: Rollout, pluginName = ''): TargetMsg {
  return { rolloutJson: JSON.stringify(rollout), pluginName };
}

/** Parses a request's rollout; the error names what is wrong with it. */
export function fromTarget(target: TargetMsg | null | undefined): { rollout: Rollout; pluginName: string } {
  if (!target || !target.rolloutJson) throw new Error('request has no rollout (target.rollout_json is empty)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(target.rolloutJson);
  } catch (err) {
    throw new Error(`target.rollout_json is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const meta = (parsed as Rollout | null)?.metadata;
  if (!parsed || typeof parsed !== 'object' || !meta || typeof meta.name !== 'string') {
    throw new Error('target.rollout_json is not a Rollout: metadata.name is missing');
  }
  return { rollout: parsed as Rollout, pluginName: target.pluginName };
}

export function toDestinations(ds: WeightDestination[]): WeightDestinationMsg[] {
  return ds.map((d) => ({ weight: d.weight, serviceName: d.serviceName ?? '', podTemplateHash: d.podTemplateHash ?? '' }));
}

export function fromDestinations(ds: WeightDestinationMsg[] | undefined): WeightDestination[] {
  return (ds ?? []).map((d) => ({
    weight: d.weight,
    ...(d.serviceName ? { serviceName: d.serviceName } : {}),
    ...(d.podTemplateHash ? { podTemplateHash: d.podTemplateHash } : {}),
  }));
}

function toStringMatch(m: StringMatch | undefined): StringMatchMsg | null {
  if (!m) return null;
  if (m.exact !== undefined && m.exact !== '') return { exact: m.exact };
  if (m.prefix !== undefined && m.prefix !== '') return { prefix: m.prefix };
  if (m.regex !== undefined && m.regex !== '') return { regex: m.regex };
  return {};
}

function fromStringMatch(m: StringMatchMsg | null | undefined): StringMatch | undefined {
  if (!m || !m.kind) return undefined;
  return { [m.kind]: m[m.kind] } as StringMatch;
}

export function toHeaderRoute(h: SetHeaderRoute): SetHeaderRouteMsg {
  return {
    name: h.name ?? '',
    match: (h.match ?? []).map((m) => ({ headerName: m.headerName, headerValue: toStringMatch(m.headerValue) })),
  };
}

export function fromHeaderRoute(h: SetHeaderRouteMsg | null | undefined): SetHeaderRoute {
  return {
    name: h?.name ?? '',
    match: (h?.match ?? []).map((m) => {
      const headerValue = fromStringMatch(m.headerValue);
      return { headerName: m.headerName, ...(headerValue ? { headerValue } : {}) };
    }),
  };
}

export function toMirrorRoute(m: SetMirrorRoute): SetMirrorRouteMsg {
  return {
    name: m.name,
    match: (m.match ?? []).map((r) => ({
      method: toStringMatch(r.method),
      path: toStringMatch(r.path),
      headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, toStringMatch(v) ?? {}])),
    })),
    ...(m.percentage !== undefined ? { percentage: m.percentage } : {}),
  };
}

export function fromMirrorRoute(m: SetMirrorRouteMsg | null | undefined): SetMirrorRoute {
  return {
    name: m?.name ?? '',
    match: (m?.match ?? []).map((r) => {
      const method = fromStringMatch(r.method);
      const path = fromStringMatch(r.path);
      const headers = Object.entries(r.headers ?? {}).flatMap(([k, v]) => {
        const sm = fromStringMatch(v);
        return sm ? [[k, sm] as const] : [];
      });
      return {
        ...(method ? { method } : {}),
        ...(path ? { path } : {}),
        ...(headers.length ? { headers: Object.fromEntries(headers) } : {}),
      };
    }),
    ...(m?.percentage !== undefined && m?.percentage !== null ? { percentage: m.percentage } : {}),
  };
}
