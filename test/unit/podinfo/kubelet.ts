import { mkdtemp, readlink, rename, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { basename, join } from 'node:path';

// Reproduces the kubelet's AtomicWriter: the payload goes into a fresh `..<timestamp>.<random>`
// directory, a `..data_tmp` symlink to it is renamed over `..data`, the user-visible names are
// symlinks into `..data` created once, and the previous payload directory is removed.
export async function kubeletWrite(dir: string, files: Record<string, string>): Promise<void> {
  const stamp = new Date().toISOString().replace(/[-T:]/g, '_').replace(/\.\d+Z$/, '');
  const payload = await mkdtemp(join(dir, `..${stamp}.`));
  for (const [name, content] of Object.entries(files)) await writeFile(join(payload, name), content);

  const dataLink = join(dir, '..data');
  const old = await readlink(dataLink).catch(() => undefined);
  const tmpLink = join(dir, '..data_tmp');
  await symlink(basename(payload), tmpLink);
  await rename(tmpLink, dataLink);

  for (const name of Object.keys(files)) {
    const visible = join(dir, name);
    if (!(await exists(visible))) await symlink(join('..data', name), visible);
  }
  if (old !== undefined) await rm(join(dir, old), { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

// The kubelet's rendering of a label map: sorted `key="value"` lines, no trailing newline. Label
// values are plain ASCII, which JSON.stringify quotes exactly as Go's strconv.Quote does.
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join('\n');
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
