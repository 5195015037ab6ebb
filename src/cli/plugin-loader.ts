import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { unsettleHeap } from '../plugin/heap.js';
import { CodeCache, setRecordings } from './recordings.js';

// Entry point of the plugin bundle (rollouts-companion-plugin.cjs, CommonJS: node then loads no
// ES module machinery). It compiles the plugin itself (the .core.cjs beside it) with the V8
// code cache that scripts/bundle.mjs recorded from a first reconcile: a cold start then
// neither parses the bundle nor compiles the functions a first SetWeight runs. V8 rejects a
// cache from another node binary or other V8 flags, and the plugin then compiles as usual.
// It also tells the core where the rest of that recording is (src/cli/recordings.ts).

// File names and the recording run's variable (where to write the cache on exit) come from
// scripts/bundle.mjs, which lays the files out.
declare const PLUGIN_LAYOUT: { core: string; codeCache: string; knownTypes: string; firstReconcile: string; recordEnv: string };
const { core: CORE_FILE, codeCache: CODE_CACHE_FILE, recordEnv: RECORD_ENV } = PLUGIN_LAYOUT;

const core = join(__dirname, CORE_FILE);
// The CommonJS wrapper, as node's own loader applies it; the cache is keyed on this exact text.
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(core, 'utf8')}\n})`;
const recordTo = process.env[RECORD_ENV];
const cachedData = recordTo ? undefined : cached();
const script = new Script(source, { filename: core, cachedData });
setRecordings({
  codeCache: !cachedData ? CodeCache.Absent : script.cachedDataRejected ? CodeCache.Rejected : CodeCache.Accepted,
  knownTypesFile: join(__dirname, PLUGIN_LAYOUT.knownTypes),
  firstReconcileFile: join(__dirname, PLUGIN_LAYOUT.firstReconcile),
});
if (recordTo) {
  process.once('exit', () => {
    unsettleHeap(); // the next start has not settled its heap yet: record with its flags
    writeFileSync(`${recordTo}.part`, script.createCachedData());
    renameSync(`${recordTo}.part`, recordTo);
  });
}
const mod = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, createRequire(core), mod, core, dirname(core));

function cached(): Buffer | undefined {
  try {
    return readFileSync(join(__dirname, CODE_CACHE_FILE));
  } catch {
    return undefined; // not recorded (a foreign-architecture release, a bundle built without it)
  }
}
