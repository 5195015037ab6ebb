#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` first; `npm start` does both).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('rollouts-companion is not built yet: run `npm run build` (or `npm start`).\n');
    process.exit(1);
  }
  throw err;
});
