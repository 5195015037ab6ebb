import * as msg from './errors.js';
import type { TrafficRequest } from './types.js';

// The one-line request notation shared by tests and `status --request`:
//   GET app.example.com/api?debug=1 X-Canary:yes
//   GRPC app.example.com shop.Cart/Add x-canary:yes

const METHOD = /^[A-Z]+$/;

function headersOf(text: string, parts: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const p of parts) {
    const at = p.indexOf(':');
    if (at <= 0) throw new Error(msg.requestHeaderInvalid(text, p));
    headers[p.slice(0, at)] = p.slice(at + 1);
  }
  return headers;
}

export function parseRequest(text: string): TrafficRequest {
  const [method, target, ...rest] = text.trim().split(/\s+/).filter(Boolean);
  if (method === undefined) throw new Error(msg.requestEmpty());
  if (target === undefined || !METHOD.test(method)) throw new Error(msg.requestTargetInvalid(text));
  if (method === 'GRPC') {
    const [call, ...headerParts] = rest;
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(call ?? '');
    if (!m) throw new Error(msg.grpcMethodInvalid(text, call ?? ''));
    return { host: target, method: 'POST', path: `/${call}`, headers: headersOf(text, headerParts), grpc: { service: m[1]!, method: m[2]! } };
  }
  const slash = target.indexOf('/');
  const host = slash === -1 ? target : target.slice(0, slash);
  if (host === '') throw new Error(msg.requestTargetInvalid(text));
  const url = new URL(slash === -1 ? '/' : target.slice(slash), 'http://x');
  const query = Object.fromEntries(url.searchParams);
  return { host, method, path: decodeURIComponent(url.pathname), headers: headersOf(text, rest), ...(Object.keys(query).length && { query }) };
}
