import { expect } from 'chai';
import type { Command } from 'commander';
import { pluginCommand, type PluginCommandOptions } from '../../../src/cli/plugin-command.js';
import { fromGoFlags } from '../../../src/cli/plugin-args.js';

// What the controller hands the plugin is a trafficRouterPlugins entry's `args`, verbatim. An
// entry written for argoproj-labs/gatewayAPI (a Go program) must start this plugin unchanged.

async function parsed(args: string[]): Promise<PluginCommandOptions> {
  let seen: PluginCommandOptions | undefined;
  const command: Command = pluginCommand()
    .exitOverride()
    .action((options: PluginCommandOptions) => {
      seen = options;
    });
  await command.parseAsync(args, { from: 'user' });
  return seen!;
}

async function failure(args: string[]): Promise<string> {
  const command = pluginCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action(() => {});
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the arguments to be refused');
}

describe('plugin command: argoproj-labs/gatewayAPI arguments', () => {
  it('takes the args its docs show: -kubeClientQPS=40 -kubeClientBurst=80 -logformat=json', async () => {
    const options = await parsed(['-kubeClientQPS=40', '-kubeClientBurst=80', '-logformat=json']);
    expect(options).to.include({ kubeQps: 40, kubeBurst: 80, logFormat: 'json' });
  });

  it('takes every flag of its main.go in every Go form: one or two dashes, "=" or a separate value', async () => {
    const options = await parsed([
      '--kubeClientQPS',
      '25',
      '-kubeClientBurst',
      '50',
      '--logformat=text',
      '-kubeconfig=/etc/kube/config',
      '-pluginAlias',
      'argoproj-labs/gatewayAPI',
    ]);
    expect(options).to.include({
      kubeQps: 25,
      kubeBurst: 50,
      logFormat: 'text',
      kubeconfig: '/etc/kube/config',
      pluginName: 'argoproj-labs/gatewayAPI',
    });
  });

  it('takes this plugin’s own options in Go form too', async () => {
    const options = await parsed(['-plugin-name=argoproj-labs/gatewayAPI', '-kube-qps', '7', '--companion=companion:9090']);
    expect(options).to.include({ pluginName: 'argoproj-labs/gatewayAPI', kubeQps: 7, companion: 'companion:9090' });
  });

  it('still refuses an unknown flag, and a QPS that is not a positive integer, naming them', async () => {
    expect(await failure(['-kubeClientQPSS=40'])).to.match(/unknown option '--kubeClientQPSS=40'/);
    expect(await failure(['-kubeClientQPS=fast'])).to.match(/--kube-qps <n>.*expected a positive number of requests per second, got "fast"/);
  });

  it('leaves values and everything after "--" alone', async () => {
    expect((await parsed(['-kubeconfig', '-odd-path'])).kubeconfig).to.equal('-odd-path');
    const valued = new Set(['kubeconfig']);
    expect(fromGoFlags(['-kubeconfig', '-odd-path', '--', '-kubeClientQPS=1'], valued)).to.deep.equal(['--kubeconfig', '-odd-path', '--', '-kubeClientQPS=1']);
    expect(fromGoFlags(['--kubeconfig=/a=b', 'x'], valued)).to.deep.equal(['--kubeconfig=/a=b', 'x']);
  });
});
