import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, cluster, pct, play, ROOT, STUB } from './plugin-support.js';
const c = await cluster();
const full = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/realhost/full-rollout.json'), 'utf8'));
const r = structuredClone(full); const containers = r.spec.template.spec.containers;
for (let i = 0; i < 30; i++) containers.push({ ...structuredClone(containers[0]), name: `sidecar-${i}` });
r.metadata.annotations = { ...r.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(Math.max(0, (1 << 20) - JSON.stringify(r).length - 64)) };
const s = { rollout: r, calls: [{ method: 'InitPlugin' }, ...Array.from({ length: 100 }, () => ({ method: 'SetWeight', desiredWeight: 10 }))] };
const plugin = await bundle();
const d = async (name: string, argv: string[]) => { const l = await play(name, s, argv, true); const own = l.filter((x) => x.i >= 2).map((x) => x.durationMs).slice(10); return pct(own, 50); };
for (const flags of (process.env.FLAGSETS ?? '').split('|')) {
  const stub = await d('stub', [STUB]);
  const ours = await d('ours', [process.execPath, ...flags.split(' ').filter(Boolean), plugin, '--kubeconfig', '/nonexistent', '--log-level', 'error']);
  console.log(`[${flags}] ours ${ours.toFixed(2)} stub ${stub.toFixed(2)} ratio ${(ours / stub).toFixed(2)}`);
}
await c.api.close();
