import { join } from 'node:path';
import { readManifests, readRollout } from '../../src/cli/manifests.js';
import type { ApiServer } from '../../src/kube/apiserver/index.js';
import type { Rollout } from '../../src/routing/rollout.js';

export const PINNED_ROUTES_DIR = join(import.meta.dirname, '..', '..', 'examples', 'pinned-routes');

/** Seeds the API server with examples/pinned-routes (what dev mode serves) and returns its Rollout. */
export async function seedPinnedRoutes(api: ApiServer): Promise<Rollout> {
  for (const file of ['gateway.yaml', 'services.yaml', 'httproutes.yaml']) {
    api.apply(await readManifests(join(PINNED_ROUTES_DIR, file)));
  }
  return readRollout(join(PINNED_ROUTES_DIR, 'rollout.yaml'));
}
