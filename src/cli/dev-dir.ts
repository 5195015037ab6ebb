import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { devDirForeign, devDirNotDirectory, devDirNotPrivate } from './dev-errors.js';

// Dev mode's state directory (kubeconfig of the embedded API server). Under a shared /tmp another
// user could pre-create the path or plant a symlink to have us overwrite their target or read our
// kubeconfig, so: the directory is created private (0700), an existing one is used only when it is
// a real directory owned by us and private, and files are written O_EXCL | O_NOFOLLOW under a
// fresh name, then renamed into place (rename replaces a link, it never follows one).

const uid = (): number | undefined => process.getuid?.();

/** Creates `dir` 0700, or checks an existing one is ours, a real directory and private. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  // Missing parents are created private too; an existing path (the leaf included) is checked below.
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(devDirNotDirectory(dir, st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'));
  const me = uid();
  if (me !== undefined && st.uid !== me) throw new Error(devDirForeign(dir, st.uid, me));
  if ((st.mode & 0o077) !== 0) throw new Error(devDirNotPrivate(dir, st.mode & 0o777));
}

/** Writes `name` in the private `dir` (mode 0600) without following or reusing any existing file. */
export async function writePrivateFile(dir: string, name: string, content: string): Promise<string> {
  const target = join(dir, name);
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}`);
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await file.writeFile(content);
  } finally {
    await file.close();
  }
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  return target;
}
