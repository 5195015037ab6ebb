#!/usr/bin/env node
// Updates a fake downward-API volume the way the kubelet does, so worker.mjs can be watched
// following label changes:
//
//   node simulate-kubelet.mjs <dir> key=value [key=value ...]
//
// The kubelet never edits the visible file. It writes the payload to a new `..<timestamp>`
// directory, points a `..data_tmp` symlink at it and renames that over `..data` (one atomic
// step), keeps `labels` as a symlink to `..data/labels`, then deletes the previous payload.
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [dir, ...pairs] = process.argv.slice(2);
if (!dir || pairs.some((p) => !p.includes('='))) {
  console.error('usage: node simulate-kubelet.mjs <dir> key=value [key=value ...]');
  process.exit(2);
}
const labels = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));

// The kubelet's format: sorted key="value" lines (Go-quoted), no trailing newline. For label
// values, which are plain ASCII, JSON.stringify quotes exactly like Go.
const content = Object.keys(labels)
  .sort()
  .map((key) => `${key}=${JSON.stringify(labels[key])}`)
  .join('\n');

mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-T:]/g, '_').replace(/\.\d+Z$/, '');
const payload = mkdtempSync(join(dir, `..${stamp}.`));
writeFileSync(join(payload, 'labels'), content);

const present = (path) => lstatSync(path, { throwIfNoEntry: false }) !== undefined;
const dataLink = join(dir, '..data');
const previous = present(dataLink) ? readlinkSync(dataLink) : undefined;
symlinkSync(basename(payload), join(dir, '..data_tmp'));
renameSync(join(dir, '..data_tmp'), dataLink);
if (!present(join(dir, 'labels'))) symlinkSync(join('..data', 'labels'), join(dir, 'labels'));
if (previous) rmSync(join(dir, previous), { recursive: true, force: true });

console.error(`${join(dir, 'labels')} -> ${join('..data', 'labels')} -> ${basename(payload)}/labels:\n${content}`);
