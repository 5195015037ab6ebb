import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { createRemoteRouter } from '../grpc/client.js';
import { TRAFFIC_ROUTER_METHODS, type TrafficRouterMethod } from '../routing/api.js';
import type { SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../routing/rollout.js';
import { readRollout } from './manifests.js';
import { DEFAULT_GRPC_ADDRESS } from './defaults.js';
import { STEP_CALL_METHODS, callStep, type StepCallMethod } from './call-step.js';

// `rollouts-companion call SetWeight --rollout r.yaml --weight 10`: any RPC by hand, as the
// controller would make it; prints the reply as JSON and exits 1 when it carries an error.


const VERIFIED_NAMES = ['NotVerified', 'Verified', 'NotImplemented'] as const;

const NEEDS_ROLLOUT: readonly TrafficRouterMethod[] = ['UpdateHash', 'SetWeight', 'SetHeaderRoute', 'SetMirrorRoute', 'VerifyWeight', 'RemoveManagedRoutes'];

function weight(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return n;
}

function yamlValue<T>(value: string): T {
  try {
    return parseYaml(value) as T;
  } catch (err) {
    throw new InvalidArgumentError(`not valid YAML/JSON: ${(err as Error).message}`);
  }
}

export function callCommand(): Command {
  return new Command('call')
    .description('call one TrafficRouter or StepPlugin RPC on a running companion and print the reply')
    .argument('[method]', `one of ${TRAFFIC_ROUTER_METHODS.join(', ')}; step plugin: ${STEP_CALL_METHODS.join(', ')}`)
    .option('-a, --address <host:port>', 'companion gRPC address', DEFAULT_GRPC_ADDRESS)
    .option('-r, --rollout <file>', 'Rollout manifest (YAML or JSON); for Run, Terminate, Abort also a Rollout name in the cluster')
    .option('-n, --namespace <ns>', 'namespace for a Rollout without one', 'default')
    .option('-w, --weight <0-100>', 'desired canary weight (SetWeight, VerifyWeight)', weight, 0)
    .option('--canary-hash <hash>', 'canary pod template hash (UpdateHash)', '')
    .option('--stable-hash <hash>', 'stable pod template hash (UpdateHash)', '')
    .option('--additional-destinations <yaml>', 'experiment destinations, e.g. \'[{serviceName: exp, weight: 5}]\'', yamlValue<WeightDestination[]>)
    .option('--header-route <yaml>', 'setHeaderRoute step, e.g. \'{name: canary-header, match: [{headerName: X-Canary, headerValue: {exact: "yes"}}]}\'', yamlValue<SetHeaderRoute>)
    .option('--mirror-route <yaml>', 'setMirrorRoute step, e.g. \'{name: mirror, percentage: 50, match: [{path: {prefix: /api}}]}\'', yamlValue<SetMirrorRoute>)
    .option('--plugin-name <name>', 'trafficRouting.plugins key to read (default: the companion\'s)', '')
    .option('--deadline <ms>', 'per-call deadline', (v) => Number(v), 10_000)
    .option('--config <yaml>', 'step plugin config (Run, Terminate, Abort; default: the plugin step at status.currentStepIndex)', yamlValue<unknown>)
    .option('--status <json>', 'step status from the last Run (default: the one in status.canary.stepPluginStatuses)', yamlValue<unknown>)
    .option('--kubeconfig <file>', 'where to read (and with --record write) a Rollout given by name')
    .option('--record', 'store the step reply in the Rollout\'s status as the controller does (Rollout by name)', false)
    .option('--token-file <file>', 'ServiceAccount token to authenticate with (e.g. from `kubectl create token argo-rollouts -n argo-rollouts --audience rollouts-companion`)')
    .option('--tls', 'connect with TLS')
    .option('--ca <file>', 'CA bundle to verify the companion (implies --tls)')
    .action(async (methodArg: string | undefined, opts) => {
      if ((STEP_CALL_METHODS as readonly string[]).includes(methodArg ?? '')) {
        if (!opts.rollout) throw new Error(`${methodArg} needs --rollout <name|file>`);
        const reply = await callStep(methodArg as StepCallMethod, {
          address: opts.address,
          rollout: opts.rollout,
          namespace: opts.namespace,
          kubeconfig: opts.kubeconfig,
          config: opts.config,
          status: opts.status,
          pluginName: opts.pluginName,
          record: opts.record,
          deadline: opts.deadline,
          tokenFile: opts.tokenFile,
        });
        process.stdout.write(`${JSON.stringify(reply)}\n`);
        if (reply.error || reply.phase === 'Error' || reply.phase === 'Failed') process.exitCode = 1;
        return;
      }
      const method = methodArg as TrafficRouterMethod | undefined;
      if (!method || !TRAFFIC_ROUTER_METHODS.includes(method)) throw new Error(`unknown method ${JSON.stringify(method ?? '')}: expected one of ${TRAFFIC_ROUTER_METHODS.join(', ')}`);
      if (NEEDS_ROLLOUT.includes(method) && !opts.rollout) throw new Error(`${method} needs --rollout <file>`);
      if (method === 'SetHeaderRoute' && !opts.headerRoute) throw new Error('SetHeaderRoute needs --header-route');
      if (method === 'SetMirrorRoute' && !opts.mirrorRoute) throw new Error('SetMirrorRoute needs --mirror-route');
      const rollout = opts.rollout ? await readRollout(opts.rollout, opts.namespace) : undefined;
      const router = createRemoteRouter({
        address: opts.address,
        pluginName: opts.pluginName,
        deadlineMs: opts.deadline,
        tokenFile: opts.tokenFile,
        tls: opts.ca ? { caFile: opts.ca } : Boolean(opts.tls),
      });
      const destinations: WeightDestination[] = opts.additionalDestinations ?? [];
      try {
        const reply = await invoke(method, router, rollout, opts, destinations);
        process.stdout.write(`${JSON.stringify(reply)}\n`);
        if (reply.error) process.exitCode = 1;
      } finally {
        router.close();
      }
    });
}

async function invoke(
  method: TrafficRouterMethod,
  router: ReturnType<typeof createRemoteRouter>,
  rollout: Awaited<ReturnType<typeof readRollout>> | undefined,
  opts: { weight: number; canaryHash: string; stableHash: string; headerRoute?: SetHeaderRoute; mirrorRoute?: SetMirrorRoute },
  destinations: WeightDestination[],
): Promise<{ error?: string; verified?: string; type?: string }> {
  switch (method) {
    case 'InitPlugin':
      return router.initPlugin(rollout);
    case 'UpdateHash':
      return router.updateHash(rollout!, opts.canaryHash, opts.stableHash, destinations);
    case 'SetWeight':
      return router.setWeight(rollout!, opts.weight, destinations);
    case 'SetHeaderRoute':
      return router.setHeaderRoute(rollout!, opts.headerRoute!);
    case 'SetMirrorRoute':
      return router.setMirrorRoute(rollout!, opts.mirrorRoute!);
    case 'VerifyWeight': {
      const r = await router.verifyWeight(rollout!, opts.weight, destinations);
      return { ...r, verified: VERIFIED_NAMES[r.verified] };
    }
    case 'RemoveManagedRoutes':
      return router.removeManagedRoutes(rollout!);
    case 'Type':
      return { type: await router.type() };
  }
}
