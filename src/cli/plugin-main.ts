import { pluginCommand } from './plugin-command.js';

// The standalone plugin (dist/rollouts-companion-plugin.core.cjs, which src/cli/plugin-loader.ts
// starts): the `plugin` verb without the rest of the CLI, so the controller starts it quickly.

pluginCommand()
  .name('rollouts-companion-plugin')
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`rollouts-companion-plugin: ${err.message}\n`);
    process.exit(1);
  });
