import { pluginCommand } from './plugin-command.js';

// Entry point of the standalone plugin bundle (dist/rollouts-companion-plugin.mjs): the
// `plugin` verb without the rest of the CLI, so the controller starts it quickly.

pluginCommand()
  .name('rollouts-companion-plugin')
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`rollouts-companion-plugin: ${err.message}\n`);
    process.exit(1);
  });
