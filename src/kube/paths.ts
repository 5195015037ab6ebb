// REST paths of the Kubernetes API, as kubectl and client-go build them.

/** A resource type: group ('' for core), version and plural name. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
}

export const SERVICES: ResourceType = { group: '', version: 'v1', plural: 'services' };
export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps' };
export const EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events' };

/** "/api/v1/namespaces/ns/services/name", "/apis/group/version/namespaces/ns/plural" (a list), ... */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const segment = (s: string) => encodeURIComponent(s);
  let path = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  if (namespace !== undefined) path += `/namespaces/${segment(namespace)}`;
  path += `/${type.plural}`;
  if (name !== undefined) path += `/${segment(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

export const MERGE_PATCH = 'application/merge-patch+json';
