import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

// The golden streams of test/fixtures/gob, written by Go (gen/regen.sh).
const dir = new URL('../../fixtures/gob/', import.meta.url);

export function fixture(name: string): Uint8Array {
  const bytes = readFileSync(new URL(name, dir));
  return new Uint8Array(name.endsWith('.gz') ? gunzipSync(bytes) : bytes);
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(Buffer.from(fixture(name)).toString('utf8')) as T;
}

export const PLUGIN_METHODS = [
  'UpdateHash',
  'SetWeight',
  'VerifyWeight',
  'SetHeaderRoute',
  'SetMirrorRoute',
  'RemoveManagedRoutes',
] as const;

/** JSON-safe copy (drops undefined, turns bigint into number) for deep comparisons. */
export function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)));
}
