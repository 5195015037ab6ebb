import { badRequest, failure, StatusError } from './status.js';
import { deepClone, deepEqual, isPlainObject } from './types.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;
export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch, reduced to what this project needs: maps merge like a merge patch
 * (`null` deletes a key), `$patch: replace` / `$patch: delete` on a map, `$retainKeys` and
 * `$deleteFromPrimitiveList/<key>` are honoured, `$setElementOrder/<key>` is ignored.
 * Lists are always replaced as a whole — the real server merges some lists by key
 * (containers by name, conditions by type, …); this one does not.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  const result: Record<string, unknown> = directive !== 'replace' && isPlainObject(target) ? { ...target } : {};
  const retain = patch['$retainKeys'];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const listKey = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[listKey];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[listKey] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = strategicMergePatch(result[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** A patch that parsed but cannot be applied: the real server answers 422. */
function unprocessable(message: string): StatusError {
  return new StatusError(failure(422, message, 'Invalid'));
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function arrayIndex(arr: unknown[], token: string, forAdd: boolean, path: string): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw unprocessable(`invalid array index ${JSON.stringify(token)} in ${path}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw unprocessable(`array index ${i} out of bounds in ${path}`);
  return i;
}

/** Walks to the parent of `path`; the document root is wrapped so that "" can be replaced too. */
function locate(root: { doc: unknown }, path: string): { parent: Container; token: string } {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return { parent: root as unknown as Record<string, unknown>, token: 'doc' };
  let cur: unknown = root.doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, token, false, path)];
    else if (isPlainObject(cur) && token in cur) cur = cur[token];
    else throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(cur) && !isPlainObject(cur)) throw unprocessable(`doc is missing path: "${path}": missing value`);
  return { parent: cur, token: tokens[tokens.length - 1]! };
}

function getAt(root: { doc: unknown }, path: string): unknown {
  const { parent, token } = locate(root, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, false, path)];
  if (!(token in parent)) throw unprocessable(`doc is missing path: "${path}": missing value`);
  return parent[token];
}

function removeAt(root: { doc: unknown }, path: string): unknown {
  const { parent, token } = locate(root, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, token, false, path), 1)[0];
  if (!(token in parent)) throw unprocessable(`doc is missing path: "${path}": missing value`);
  const old = parent[token];
  delete parent[token];
  return old;
}

function addAt(root: { doc: unknown }, path: string, value: unknown): void {
  const { parent, token } = locate(root, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true, path), 0, value);
  else parent[token] = value;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test); `test` failure → 422. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const root = { doc: deepClone(target) };
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw badRequest(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        addAt(root, op.path, deepClone(op.value));
        break;
      case 'remove':
        removeAt(root, op.path);
        break;
      case 'replace':
        removeAt(root, op.path);
        addAt(root, op.path, deepClone(op.value));
        break;
      case 'move':
        addAt(root, op.path, removeAt(root, op.from ?? ''));
        break;
      case 'copy':
        addAt(root, op.path, deepClone(getAt(root, op.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(getAt(root, op.path), op.value)) throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String((raw as { op: unknown }).op)}`);
    }
  }
  return root.doc;
}

export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  switch (type) {
    case PATCH_TYPES.json:
      return jsonPatch(target, patch);
    case PATCH_TYPES.merge:
      return mergePatch(target, patch);
    case PATCH_TYPES.strategic:
      return strategicMergePatch(target, patch);
  }
}
