import { Command } from 'commander';
import { serveCommand } from './serve.js';
import { callCommand } from './call.js';
import { statusCommand } from './status.js';
import { pluginCommand } from './plugin-command.js';
import { versionCommand } from './version.js';

// The one executable: `serve` (the companion), `plugin` (what the Argo Rollouts controller
// starts), `call` (any RPC by hand), `status` (what the routes look like now).

const program = new Command('rollouts-companion')
  .description('Argo Rollouts companion: Gateway API traffic routing with pinned routes, long-lived canaries')
  .showHelpAfterError()
  .addCommand(serveCommand(), { isDefault: true })
  .addCommand(pluginCommand())
  .addCommand(callCommand())
  .addCommand(statusCommand())
  .addCommand(versionCommand());

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`rollouts-companion: ${err.message}\n`);
  process.exit(1);
});
