import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createPluginLogger } from '../plugin/hclog.js';
import { settleHeap, unsettleHeap } from '../plugin/heap.js';
import { IdleHeapRelease } from '../plugin/idle-heap.js';
import { runPlugin } from '../plugin/run.js';
import { DEFAULT_PLUGIN_NAME, type TrafficRouterApi } from '../routing/api.js';
import { ownVersion } from '../version.js';
import type { StepPluginApi } from '../step/api.js';
import type { KubeClient } from '../kube/client.js';
import type { PluginObservability } from '../observability/plugin.js';
import { KnownTypesFile, warmUp } from './recorded-reconcile.js';
import { recordings } from './recordings.js';
import { fromGoFlags } from './plugin-args.js';

// `rollouts-companion plugin`: what the Argo Rollouts controller executes for a
// `trafficRouterPlugins` entry. In-process mode drives the routes itself with the
// controller's credentials; with --companion it forwards every call to a running companion.

export interface PluginCommandOptions {
  pluginName: string;
  companion?: string;
  companionTls?: boolean;
  companionCa?: string;
  companionTokenFile?: string;
  allowCrossNamespaceRoutes?: boolean;
  deadline?: number;
  kubeconfig?: string;
  kubeQps?: number;
  kubeBurst?: number;
  kubeRequestTimeout?: number;
  logLevel: string;
  metricsListen?: string;
  logFormat?: string;
}

export const LOG_FORMAT_IGNORED =
  'log format ignored: the plugin always logs hclog JSON lines, which the controller re-logs in its own format';

const positive = (what: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of ${what}, got "${value}"`);
  return n;
};

export function pluginCommand(): Command {
  const command = new Command('plugin');
  // The controller passes a plugin entry's args verbatim: accept argoproj-labs/gatewayAPI's.
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args: string[]) => {
    const valued = new Set(command.options.filter((o) => o.required || o.optional).map((o) => o.long!.slice(2)));
    return parseOptions(fromGoFlags(args, valued));
  };
  return command
    .description('run as an Argo Rollouts traffic-router or step plugin (the controller starts it; not for interactive use)')
    .option(
      '--plugin-name <name>',
      'the trafficRouting.plugins key to read (e.g. argoproj-labs/gatewayAPI to take over existing Rollouts)',
      DEFAULT_PLUGIN_NAME,
    )
    .option('--companion <host:port>', 'forward every call to a running companion over gRPC instead of driving routes in-process')
    .option('--companion-tls', 'use TLS to reach the companion')
    .option('--companion-ca <file>', 'CA bundle to verify the companion (implies --companion-tls)')
    .option('--companion-token-file <file>', 'ServiceAccount token sent to the companion (default: the projected token deploy/plugin mounts, when present)')
    .option('--allow-cross-namespace-routes', 'in-process mode: let Rollouts use routes of other namespaces without the routes\' consent annotation')
    .option('--deadline <ms>', 'per-call deadline in remote mode', positive('milliseconds'))
    .option('--kubeconfig <path>', 'kubeconfig for in-process mode (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--kube-qps <n>', 'in-process mode: API requests per second (the controller pod\'s budget is shared)', positive('requests per second'))
    .option('--kube-burst <n>', 'in-process mode: API request burst', positive('requests'))
    .option('--kube-request-timeout <ms>', 'in-process mode: longest single API request attempt before it is aborted and retried', positive('milliseconds'))
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics (an extra port of the controller pod)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (logs go to stderr as hclog JSON)', process.env.LOG_LEVEL ?? 'info')
    .option('--log-format <format>', 'accepted for argoproj-labs/gatewayAPI\'s -logformat; logs are always hclog JSON')
    .action(async (options: PluginCommandOptions) => {
      const code = await runPluginCommand(options);
      process.exit(code);
    });
}

/** Where deploy/plugin mounts the controller's projected token for the companion's audience. */
export const DEFAULT_COMPANION_TOKEN_FILE = '/var/run/secrets/rollouts-companion/token';

/** --companion-token-file, else the projected token when the install mounted it. */
const companionTokenFile = (options: PluginCommandOptions): string | undefined =>
  options.companionTokenFile ?? (existsSync(DEFAULT_COMPANION_TOKEN_FILE) ? DEFAULT_COMPANION_TOKEN_FILE : undefined);

const companionTls = (options: PluginCommandOptions) => (options.companionCa ? { caFile: options.companionCa } : Boolean(options.companionTls));

/** The traffic router's client, with discovery and the pool's first connection under way. */
async function warmKubeClient(options: PluginCommandOptions): Promise<KubeClient> {
  const client = await kubeClient(options);
  (await import('../kube/route-versions.js')).routeVersionsOf(client).warmUp();
  return client;
}

/**
 * In-process mode's Kubernetes client, for either plugin kind. A kubeconfig that cannot be read
 * fails here, so the plugin answers every call with why.
 */
async function kubeClient(options: PluginCommandOptions) {
  const { KubeClient } = await import('../kube/client.js');
  const client = new KubeClient({
    kubeconfig: options.kubeconfig,
    qps: options.kubeQps,
    burst: options.kubeBurst,
    requestTimeoutMs: options.kubeRequestTimeout,
  });
  await client.ready();
  return client;
}

export async function runPluginCommand(options: PluginCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = createPluginLogger(options.logLevel);
  const { codeCache, knownTypesFile, firstReconcileFile } = recordings();
  const knownTypes = knownTypesFile ? new KnownTypesFile(knownTypesFile, logger) : undefined;
  // Imported only once the handshake is out: the Kubernetes and gRPC clients are most of the
  // start-up time, and the controller waits for the handshake line.
  let observability: PluginObservability | undefined;
  const router = async (): Promise<TrafficRouterApi> => {
    // Here, not before the handshake: only a plugin the host really started says what it is.
    logger.info({ ...ownVersion(), codeCache, nodeFlags: process.execArgv.join(' ') }, 'rollouts-companion plugin starting');
    if (options.logFormat !== undefined) logger.info({ logFormat: options.logFormat }, LOG_FORMAT_IGNORED);
    // The controller encodes its first Rollout meanwhile (~30 ms here). The Kubernetes client
    // comes first: its first connection and discovery then run while the rest loads. V8's
    // default flags while loading: node takes the code cache of its own modules (http, tls)
    // only under them (src/plugin/heap.ts).
    unsettleHeap();
    try {
      const client = options.companion ? undefined : await warmKubeClient(options);
      knownTypes?.load();
      const { startPluginObservability } = await import('../observability/plugin.js');
      observability = await startPluginObservability({ metricsListen: options.metricsListen, logger });
      const built = observability.instrument(client ? await localRouter(client, observability) : await remoteRouter(observability));
      if (firstReconcileFile) await warmUp(firstReconcileFile, knownTypes, logger);
      // On node's clock, which starts with the process: the plugin's own start-up time, for
      // operators comparing versions and for bench/plugin-coldstart.ts.
      logger.info({ startupMs: Math.round(performance.now()) }, 'rollouts-companion plugin ready');
      return built;
    } finally {
      settleHeap();
    }
  };
  const remoteRouter = async (observability: PluginObservability): Promise<TrafficRouterApi> => {
    const { createRemoteRouter } = await import('../grpc/client.js');
    const tls = companionTls(options);
    logger.debug({ companion: options.companion, tls: Boolean(tls) }, 'plugin forwarding to a companion');
    return createRemoteRouter({
      address: options.companion!,
      pluginName: options.pluginName,
      tls,
      deadlineMs: options.deadline,
      ...observability.remote(),
      tokenFile: companionTokenFile(options),
    });
  };
  const localRouter = async (client: KubeClient, observability: PluginObservability): Promise<TrafficRouterApi> => {
    const { createLocalRouter } = await import('../kube/local-router.js');
    return createLocalRouter({
      pluginName: options.pluginName,
      client,
      allowCrossNamespaceRoutes: options.allowCrossNamespaceRoutes,
      logger,
      ...(await observability.localRouter(client)),
    });
  };
  // The same binary is the lockstep step plugin when the controller loads it from `stepPlugins`.
  const step = async (): Promise<StepPluginApi> => {
    if (options.companion) {
      const { createRemoteStep } = await import('../grpc/step-client.js');
      return createRemoteStep({ address: options.companion, tls: companionTls(options), deadlineMs: options.deadline, tokenFile: companionTokenFile(options) });
    }
    const { createLocalStep } = await import('../kube/local-step.js');
    return createLocalStep({ client: await kubeClient(options), logger });
  };
  const heap = new IdleHeapRelease();
  const code = await runPlugin({ router, step, logger, env, knownTypes, beforeHandshake: settleHeap, onCall: heap.touch });
  heap.stop();
  await observability?.shutdown();
  return code;
}
