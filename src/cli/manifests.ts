import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { Rollout } from '../routing/rollout.js';

// Reading Kubernetes manifests (YAML or JSON, several documents per file) the way kubectl does.

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export async function readManifests(path: string): Promise<Manifest[]> {
  const text = await readFile(path, 'utf8');
  const docs = parseAllDocuments(text);
  const out: Manifest[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0) throw new Error(`${path}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const m = value as Partial<Manifest>;
    if (typeof m.kind !== 'string' || typeof m.apiVersion !== 'string' || typeof m.metadata?.name !== 'string') {
      throw new Error(`${path}: document ${i + 1} is not a Kubernetes object (needs apiVersion, kind and metadata.name)`);
    }
    out.push(m as Manifest);
  }
  return out;
}

/** The one Rollout in a manifest file; its namespace defaults to `namespace`. */
export async function readRollout(path: string, namespace = 'default'): Promise<Rollout> {
  const rollouts = (await readManifests(path)).filter((m) => m.kind === 'Rollout');
  if (rollouts.length !== 1) throw new Error(`${path}: expected exactly one Rollout, found ${rollouts.length}`);
  const rollout = rollouts[0] as unknown as Rollout;
  rollout.metadata.namespace ??= namespace;
  return rollout;
}
