import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';

// deploy/ installs one Argo Rollouts release, and it is one whose controller accepts every
// step the companion implements. The README's version matrix says which release allows what;
// this keeps the two from drifting apart.

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFile(join(ROOT, path), 'utf8');
const minor = (v: string): number[] => v.replace(/^v/, '').split('.').map(Number);
const atLeast = (v: string, min: string): boolean => {
  const [a, b] = [minor(v), minor(min)];
  return a[0]! > b[0]! || (a[0] === b[0] && a[1]! >= b[1]!);
};

describe('deploy/: the Argo Rollouts version', () => {
  it('is the same release in the kustomization, the Dockerfile and the plugin README', async () => {
    const versions = [
      /argo-rollouts\/releases\/download\/(v[\d.]+)\/install\.yaml/.exec(await read('deploy/plugin/kustomization.yaml'))?.[1],
      /ARG ROLLOUTS_VERSION=(v[\d.]+)/.exec(await read('deploy/plugin/Dockerfile'))?.[1],
      /ROLLOUTS_VERSION=(v[\d.]+)/.exec(await read('deploy/plugin/README.md'))?.[1],
    ];
    expect(new Set(versions)).to.have.lengthOf(1);
    expect(versions[0]).to.match(/^v\d+\.\d+\.\d+$/);
  });

  it('allows everything the README’s version matrix lists (mirror steps and ping-pong need ≥ 1.10)', async () => {
    const pinned = /releases\/download\/(v[\d.]+)\//.exec(await read('deploy/plugin/kustomization.yaml'))![1]!;
    const readme = await read('README.md');
    const table = readme.slice(readme.indexOf('| the Rollout uses |'));
    const [header, , ...rows] = table.split('\n\n')[0]!.split('\n');
    const versions = header!.split('|').slice(2, -2).map((c) => c.trim());
    const allowed = rows.map((row) => {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      return { feature: cells[0]!, from: versions.find((_, i) => cells[i + 1] === 'yes') };
    });
    expect(allowed.find((r) => r.feature.includes('setMirrorRoute'))?.from).to.equal('1.10');
    expect(allowed.find((r) => r.feature.includes('pingPong'))?.from).to.equal('1.10');
    for (const { feature, from } of allowed) {
      expect(from, feature).to.not.equal(undefined);
      expect(atLeast(pinned, from!), `${feature} needs ${from}, deploy/ installs ${pinned}`).to.equal(true);
    }
    expect(readme).to.include(`\`deploy/plugin\` installs **${pinned}**`);
  });
});
