import { expect } from 'chai';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../../../src/cli/dev-dir.js';

// Dev mode's state directory under a shared /tmp: created private, never a planted one.

describe('dev mode: its state directory', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'rc-devdir-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });
  const failure = async (dir: string): Promise<string> => {
    try {
      await ensurePrivateDir(dir);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('creates the directory 0700 and accepts it again', async () => {
    const dir = join(base, 'dev');
    await ensurePrivateDir(dir);
    await ensurePrivateDir(dir);
    expect((await stat(dir)).mode & 0o777).to.equal(0o700);
  });

  it('refuses a directory others can read or write, a symlink and a file, saying what to do', async () => {
    const open = join(base, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    expect(await failure(open)).to.equal(`dev directory ${open} has mode 0777; it must be private (0700): chmod 700 it, remove it, or pass --dev-dir with a directory of your own`);
    const link = join(base, 'link');
    const mine = join(base, 'mine');
    await mkdir(mine, { mode: 0o700 });
    await symlink(mine, link);
    expect(await failure(link)).to.equal(`dev directory ${link} is a symbolic link; refusing to use it (remove it, or pass --dev-dir with a directory of your own)`);
    const file = join(base, 'file');
    await writeFile(file, '');
    expect(await failure(file)).to.match(/is not a directory; refusing/);
  });

  it('refuses a directory owned by someone else', async function () {
    if (process.getuid?.() !== 0) this.skip(); // only root can give a directory away
    const dir = join(base, 'foreign');
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, 65534, 65534);
    expect(await failure(dir)).to.match(/belongs to uid 65534, not to you \(uid 0\)/);
  });

  it('writes files 0600 without following a planted symlink (the link is replaced, its target untouched)', async () => {
    const dir = join(base, 'dev');
    await ensurePrivateDir(dir);
    const victim = join(base, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 'kubeconfig'));
    const path = await writePrivateFile(dir, 'kubeconfig', 'apiVersion: v1\n');
    expect(await readFile(victim, 'utf8')).to.equal('precious');
    expect((await lstat(path)).isSymbolicLink()).to.equal(false);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect(await readFile(path, 'utf8')).to.equal('apiVersion: v1\n');
  });
});
