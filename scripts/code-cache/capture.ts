// Re-records calls.gob: the net/rpc bytes Argo Rollouts v1.9.1's own plugin client
// (../shared/realhost) writes on a traffic-router plugin's stream during a Rollout's first
// reconcile of examples/pinned-routes (InitPlugin, UpdateHash, SetWeight, VerifyWeight,
// SetWeight again), type definitions included. record.ts replays them to the bundle to
// record its V8 code cache and keeps their type definitions; the bundle ships them for the
// plugin's warm-up. Captured between realhost and the Go stub plugin by wiretap
// (scripts/ensure-gphost.sh builds both).
//   node --import tsx scripts/code-cache/capture.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRollout } from '../../src/cli/manifests.js';
import { yamuxFrames } from '../../test/support/wiretap.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GPHOST = join(ROOT, '.build/gphost');
const tmp = mkdtempSync(join(tmpdir(), 'code-cache-capture-'));
try {
  const seeded = await readRollout(join(ROOT, 'examples/pinned-routes/rollout.yaml'));
  // Metadata and status as the controller sends them on a canary's first step.
  const rollout = {
    ...seeded,
    metadata: { ...seeded.metadata, uid: '6f1c2b9e-3d4a-4e8f-9a7b-1c2d3e4f5a6b', resourceVersion: '184213', generation: 12, creationTimestamp: '2025-03-02T10:15:00Z' },
    status: { currentPodHash: '7c9d8f6b5', stableRS: '5f6d7c8b9', currentStepIndex: 0, phase: 'Progressing' },
  };
  const calls = [
    { method: 'InitPlugin' },
    { method: 'UpdateHash', canaryHash: '7c9d8f6b5', stableHash: '5f6d7c8b9' },
    { method: 'SetWeight', desiredWeight: 10 },
    { method: 'VerifyWeight', desiredWeight: 10 },
    { method: 'SetWeight', desiredWeight: 10 },
  ];
  writeFileSync(join(tmp, 'scenario.json'), JSON.stringify({ rollout, calls }));
  const raw = join(tmp, 'capture.raw');
  execFileSync(join(ROOT, '../shared/realhost/realhost'), ['-kind', 'trafficrouter', '-scenario', join(tmp, 'scenario.json'), '-log-level', 'off', '--',
    join(GPHOST, 'wiretap'), '-o', join(tmp, 'dump.txt'), '-raw', raw, '--', join(GPHOST, 'stubplugin')], { stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(join(import.meta.dirname, 'calls.gob'), brokerStreamBytes(new Uint8Array(readFileSync(raw))));
  process.stdout.write(`capture.ts: ${join(import.meta.dirname, 'calls.gob')} written\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * What the host wrote on the dispensed plugin's stream (the last one it opened) in a
 * `wiretap -raw` capture, without the 4-byte broker id it starts with.
 */
function brokerStreamBytes(capture: Uint8Array): Buffer {
  const frames = yamuxFrames(capture).filter((f) => f.dir === 0);
  const stream = Math.max(...frames.map((f) => f.stream));
  return Buffer.concat(frames.filter((f) => f.stream === stream).map((f) => f.data)).subarray(4);
}
