import type { ResourceDef } from './resources.js';
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

/** A parsed selector: true when the object matches. */
export type Matcher = (obj: KubeObject) => boolean;

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const VALUE = '[-A-Za-z0-9_.]*';
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|!=|=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);

/** Split on commas that are not inside `( … )`. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

type LabelTest = (labels: Record<string, string>) => boolean;

function parseRequirement(req: string): LabelTest {
  let m = NOT_EXISTS.exec(req);
  if (m) {
    const key = m[1]!;
    return (l) => !(key in l);
  }
  m = EXISTS.exec(req);
  if (m) {
    const key = m[1]!;
    return (l) => key in l;
  }
  m = EQUALITY.exec(req);
  if (m) {
    const [, key, op, value] = m as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = SET.exec(req);
  if (m) {
    const [, key, op, list] = m as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => key in l && values.has(l[key]!) : (l) => !(key in l) || !values.has(l[key]!);
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(req)}`);
}

/**
 * Label selector with the real grammar: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, comma-separated (AND). `!=` and `notin` also match objects without the label.
 */
export function parseLabelSelector(selector: string | undefined): Matcher {
  const tests = splitTopLevel(selector ?? '').map(parseRequirement);
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return tests.every((t) => t(labels));
  };
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

/**
 * Field selector: `path=v`, `path==v`, `path!=v`, comma-separated. Like the real server only
 * metadata.name, metadata.namespace and the resource's own `fieldSelectors` are accepted.
 */
export function parseFieldSelector(selector: string | undefined, def: ResourceDef): Matcher {
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(def.fieldSelectors ?? [])]);
  const tests = splitTopLevel(selector ?? '').map((req): Matcher => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${req}'; can't understand '${req}'`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    if (!allowed.has(path)) throw badRequest(`field label not supported: ${path}`);
    return op === '!=' ? (o) => fieldValue(o, path) !== value : (o) => fieldValue(o, path) === value;
  });
  return (obj) => tests.every((t) => t(obj));
}
