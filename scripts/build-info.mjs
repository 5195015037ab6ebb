// What a build records about itself (src/version.ts reads it): the package version and the
// commit it was built from (git at build time; "-dirty" when tracked files differ from it;
// "unknown" outside a git checkout). The bundle and the release carry both (esbuild define);
// `npm run build` writes the commit to dist/build-info.json.
//
//   node scripts/build-info.mjs OUTFILE
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function gitCommit(cwd = ROOT) {
  try {
    const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

export function buildInfo() {
  return { version: JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).version, commit: gitCommit() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? 'dist/build-info.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ commit: gitCommit() })}\n`);
}
