import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { createLogger, type Logger } from '../log.js';
import { DEFAULT_PLUGIN_NAME } from '../routing/api.js';
import { loadKubeConfig } from '../kube/load-kubeconfig.js';
import { KubeClient, DEFAULT_BURST, DEFAULT_QPS } from '../kube/client.js';
import { localRouters } from '../kube/local-router.js';
import { createLocalStep } from '../kube/local-step.js';
import { gateMetricsObserver } from '../step/gate-metrics.js';
import { createCompanionServer, listen, routeGrpcLogs } from '../grpc/server.js';
import { callerGuard, DEFAULT_CALLER_LIMITS } from '../grpc/auth.js';
import { DEFAULT_ALLOWED_CALLERS, DEFAULT_AUDIENCE, TokenReviewer } from '../security/token-review.js';
import { guardedRouters } from '../security/rollout-guard.js';
import * as securityMsg from '../security/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, hardenedServerOptions, isLoopback, reloadingTlsCredentials } from '../security/transport.js';
import { createMetrics } from '../observability/metrics.js';
import { startHealthServer } from '../observability/health.js';
import { countConnections, kubeRequestMetrics } from '../observability/instrument.js';
import { EVENT_COMPONENT, EventRecorder } from '../kube/events.js';
import { KubeRouteStore, type RouteStoreEvents } from '../kube/route-store.js';
import { tracingWanted } from '../observability/tracing-env.js';
import { startCanaryController, DEFAULT_ATTACH_LABEL, type CanaryController } from '../canary/index.js';
import { startDevCluster, type DevCluster } from './dev-cluster.js';
import { gatewayListenInvalid } from './dev-errors.js';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS } from './defaults.js';

// `serve`: the companion. gRPC TrafficRouter + health + reflection, /healthz /readyz /metrics,
// and the long-lived-canary controller. Without KUBECONFIG (and outside a cluster) it runs
// against an embedded dev API server seeded from examples/pinned-routes.

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SEED_DIR = join(here, '..', '..', 'examples', 'pinned-routes');

interface ServeOptions {
  listen: string;
  httpListen: string;
  kubeconfig?: string;
  context?: string;
  dev: boolean;
  seed: string;
  devDir?: string;
  gateway: boolean;
  gatewayListen: string;
  pluginName: string;
  kubeQps: number;
  kubeBurst: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsRefreshSeconds: number;
  trafficRouter: boolean;
  insecureAllowUnauthenticated: boolean;
  tokenAudience: string;
  allowedCallers: string[];
  reflection: boolean;
  allowCrossNamespaceRoutes: boolean;
  maxMessageBytes: number;
  callerMaxInFlight: number;
  callerQps: number;
  callerBurst: number;
  maxCallSeconds: number;
  longLivedCanaries: boolean;
  attachLabel: string;
  namespaces?: string[];
  leaderElection: boolean;
  leaseName: string;
  leaseNamespace: string;
  logLevel?: string;
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the companion (gRPC traffic router, long-lived canaries, health and metrics)')
    .option('--listen <host:port>', 'gRPC address', DEFAULT_GRPC_ADDRESS)
    .option('--http-listen <host:port>', 'address of /healthz, /readyz and /metrics', DEFAULT_HTTP_ADDRESS)
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, in-cluster, else dev mode)')
    .option('--context <name>', 'kubeconfig context')
    .option('--dev', 'force dev mode: an embedded API server seeded from --seed', false)
    .option('--seed <dir>', 'manifests that seed the dev API server', DEFAULT_SEED_DIR)
    .option('--dev-dir <dir>', 'where dev mode writes its kubeconfig (default: <tmp>/rollouts-companion-dev)')
    .option('--gateway-listen <host:port>', 'dev mode: HTTP port of the simulated gateway', '127.0.0.1:8000')
    .option('--no-gateway', 'dev mode: no simulated gateway (routes get no status, no traffic flows)')
    .option('--plugin-name <name>', 'trafficRouting.plugins key read when a request names none', DEFAULT_PLUGIN_NAME)
    .option('--kube-qps <n>', 'API-server request rate', Number, DEFAULT_QPS)
    .option('--kube-burst <n>', 'API-server request burst', Number, DEFAULT_BURST)
    .option('--tls-cert <file>', 'serve gRPC over TLS with this certificate')
    .option('--tls-key <file>', 'private key for --tls-cert')
    .option('--tls-refresh-seconds <n>', 'how often the TLS files are re-read (certificate rotation without restart)', Number, 60)
    .option('--no-traffic-router', 'no gRPC server: only long-lived canaries (run the two halves under separate service accounts)')
    .option('--insecure-allow-unauthenticated', 'accept gRPC calls without a ServiceAccount token (needed to listen beyond loopback without authentication)', false)
    .option('--token-audience <aud>', 'audience callers\' projected tokens must carry', DEFAULT_AUDIENCE)
    .option('--allowed-callers <a,b>', 'usernames or groups that may call TrafficRouter', list, [...DEFAULT_ALLOWED_CALLERS])
    .option('--no-reflection', 'do not serve gRPC server reflection')
    .option('--allow-cross-namespace-routes', 'let Rollouts use routes of other namespaces without the routes\' consent annotation', false)
    .option('--max-message-bytes <n>', 'largest gRPC request accepted', Number, DEFAULT_MAX_MESSAGE_BYTES)
    .option('--caller-max-in-flight <n>', 'calls one caller may have in progress', Number, DEFAULT_CALLER_LIMITS.maxInFlight)
    .option('--caller-qps <n>', 'calls per second one caller may make (sustained)', Number, DEFAULT_CALLER_LIMITS.ratePerSecond)
    .option('--caller-burst <n>', 'calls one caller may make in a burst', Number, DEFAULT_CALLER_LIMITS.burst)
    .option('--max-call-seconds <n>', 'longest any call may take, whatever deadline the caller set', Number, DEFAULT_CALLER_LIMITS.maxCallMs / 1000)
    .option('--no-long-lived-canaries', 'do not relabel attached pods')
    .option('--attach-label <key>', 'pod label naming the Rollout a long-lived canary follows', DEFAULT_ATTACH_LABEL)
    .option('--namespaces <a,b>', 'limit long-lived canaries to these namespaces', list)
    .option('--leader-election', 'only the Lease holder relabels pods (run 2+ replicas)', false)
    .option('--lease-name <name>', 'leader-election Lease', 'rollouts-companion')
    .addOption(new Option('--lease-namespace <ns>', 'namespace of the Lease').env('POD_NAMESPACE').default('default'))
    .option('--log-level <level>', 'trace, debug, info, warn, error (default: LOG_LEVEL or info)')
    .action(async (opts: ServeOptions) => {
      const logger = createLogger({ level: opts.logLevel });
      routeGrpcLogs(logger);
      await serve(opts, logger);
    });
}

/** Unique per process, like client-go's: two replicas must never share an identity (pid is 1 in containers). */
function leaseIdentity(): string {
  return `${process.env.POD_NAME ?? hostname()}_${randomUUID()}`;
}

/** Dev mode unless told where the cluster is. */
function wantsDev(opts: ServeOptions): boolean {
  return opts.dev || !(opts.kubeconfig || process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST);
}

async function serve(opts: ServeOptions, logger: Logger): Promise<void> {
  let dev: DevCluster | undefined;
  if (wantsDev(opts)) {
    const gw = /^(.+):(\d+)$/.exec(opts.gatewayListen);
    if (!gw) throw new Error(gatewayListenInvalid(opts.gatewayListen));
    dev = await startDevCluster(opts.seed, opts.devDir, opts.gateway && { host: gw[1]!, port: Number(gw[2]) });
  }
  try {
    await run(opts, logger, dev);
  } catch (err) {
    await dev?.close();
    throw err;
  }
}

async function run(opts: ServeOptions, logger: Logger, dev: DevCluster | undefined): Promise<void> {
  const kube = new KubeClient({
    // client-node's KubeConfig, read once: the companion's watches need it, so its requests use it too.
    kubeConfig: dev ? dev.api.kubeConfig() : loadKubeConfig(opts.kubeconfig),
    context: opts.context,
    qps: opts.kubeQps,
    burst: opts.kubeBurst,
  });
  // A missing or unreadable kubeconfig stops serve here, not at the first request.
  await kube.ready();

  const metrics = createMetrics();
  const tracing = tracingWanted(process.env) ? (await import('../observability/tracing.js')).startTracing('rollouts-companion') : undefined;
  kube.onRequest(kubeRequestMetrics(metrics));
  countConnections(metrics);
  const recorder = new EventRecorder({
    kube,
    component: EVENT_COMPONENT,
    onOutcome: (outcome, event) => metrics.events.inc({ reason: event.reason, outcome }),
  });
  const storeEvents: RouteStoreEvents = {
    onWrite: (kind) => metrics.routeWrites.inc({ kind }),
    onConflict: (kind) => metrics.routeConflicts.inc({ kind }),
  };
  const grpcServer = opts.trafficRouter ? await startTrafficRouter(opts, logger, kube, metrics, Boolean(dev), { recorder, storeEvents, tracing }) : undefined;
  if (dev) {
    await dev.writeKubeconfig();
    logger.warn(
      { apiServer: dev.api.url, kubeconfig: dev.kubeconfigPath, seeded: dev.seeded, gateway: dev.gateway?.url ?? 'off' },
      'DEV MODE: embedded in-memory API server, not a cluster',
    );
  }

  let canaries: CanaryController | undefined;
  if (opts.longLivedCanaries) {
    canaries = await startCanaryController({
      kube,
      logger: logger.child({ component: 'long-lived-canaries' }),
      labelKey: opts.attachLabel,
      namespaces: opts.namespaces,
      metrics,
      ...(tracing ? { traceRelabel: tracing.relabel } : {}),
      leaderElection: opts.leaderElection
        ? { leaseName: opts.leaseName, leaseNamespace: opts.leaseNamespace, identity: leaseIdentity() }
        : false,
    });
  }

  const http = await startHealthServer({
    address: opts.httpListen,
    registry: metrics.registry,
    live: () => true,
    ready: () => canaries?.ready() ?? true,
  });

  logger.info(
    {
      grpc: grpcServer?.address ?? 'off',
      http: http.address,
      authentication: grpcServer ? grpcServer.authentication : undefined,
      cluster: dev ? 'dev' : kube.server,
      longLivedCanaries: Boolean(canaries),
    },
    'rollouts-companion serving',
  );
  if (dev) printDevBanner(dev, grpcServer?.address ?? 'off', http.address, grpcServer?.authentication ?? 'off');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    grpcServer?.health.setStatus('', 'NOT_SERVING');
    await canaries?.stop();
    await new Promise<void>((resolve) => (grpcServer ? grpcServer.server.tryShutdown(() => resolve()) : resolve()));
    await http.close();
    await dev?.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
}

interface RouterWiring {
  recorder: EventRecorder;
  storeEvents: RouteStoreEvents;
  tracing: Awaited<ReturnType<typeof import('../observability/tracing.js').startTracing>> | undefined;
}

async function startTrafficRouter(opts: ServeOptions, logger: Logger, kube: KubeClient, metrics: ReturnType<typeof createMetrics>, dev: boolean, wiring: RouterWiring) {
  const { recorder, storeEvents, tracing } = wiring;
  // Dev mode on loopback is the one place calls go unauthenticated without being told to.
  const authenticate = !dev && !opts.insecureAllowUnauthenticated;
  if (!authenticate && !isLoopback(opts.listen) && !opts.insecureAllowUnauthenticated) throw new Error(securityMsg.unauthenticatedBeyondLoopback(opts.listen));
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  const routerFor = guardedRouters(
    localRouters({
      client: kube,
      recorder,
      ...(tracing ? { store: tracing.traceStore(new KubeRouteStore(kube, storeEvents)) } : {}),
      logger,
      defaultPluginName: opts.pluginName,
      allowCrossNamespaceRoutes: opts.allowCrossNamespaceRoutes,
      events: storeEvents,
    }),
    { kube, pluginName: opts.pluginName },
  );
  const guard = callerGuard({
    ...(authenticate ? { reviewer: new TokenReviewer(kube, { audience: opts.tokenAudience }) } : {}),
    allowed: opts.allowedCallers,
    limits: { maxInFlight: opts.callerMaxInFlight, ratePerSecond: opts.callerQps, burst: opts.callerBurst, maxCallMs: opts.maxCallSeconds * 1000 },
    onRefused: ({ method, caller, code, reason }) => {
      const name = method.slice(method.lastIndexOf('/') + 1);
      metrics.rpcRequests.inc({ method: name, result: 'refused' });
      // A flood is counted, not logged line by line.
      const level = code === grpc.status.RESOURCE_EXHAUSTED ? 'debug' : 'warn';
      logger[level]({ method: name, caller, code: grpc.status[code], reason }, `${name} refused`);
    },
  });
  const { server, health } = createCompanionServer({
    routerFor,
    step: createLocalStep({ client: kube, logger, gateObserver: gateMetricsObserver(metrics) }),
    logger,
    ...(tracing ? { around: tracing.serverCall } : {}),
    reflection: opts.reflection,
    grpcOptions: hardenedServerOptions({ maxMessageBytes: opts.maxMessageBytes, interceptors: [guard] }),
    observe: (method, result, seconds) => {
      metrics.rpcRequests.inc({ method, result });
      metrics.rpcDuration.observe({ method }, seconds);
    },
  });
  const credentials =
    opts.tlsCert && opts.tlsKey
      ? reloadingTlsCredentials({ certFile: opts.tlsCert, keyFile: opts.tlsKey, refreshMs: opts.tlsRefreshSeconds * 1000 })
      : grpc.ServerCredentials.createInsecure();
  const port = await listen(server, opts.listen, credentials);
  const authentication = authenticate ? `ServiceAccount token (audience ${opts.tokenAudience}) for ${opts.allowedCallers.join(', ')}` : 'NONE';
  return { server, health, address: `${opts.listen.replace(/:\d+$/, '')}:${port}`, authentication };
}

function printDevBanner(dev: DevCluster, grpcAddress: string, httpAddress: string, authentication: string): void {
  const kc = dev.kubeconfigPath;
  process.stderr.write(
    [
      '',
      `  rollouts-companion — DEV MODE (embedded in-memory API server, ${dev.gateway ? 'simulated gateway' : 'no gateway'}; nothing here is a cluster)`,
      `  seeded:      ${dev.seeded.join(', ')}`,
      `  kubeconfig:  ${kc}`,
      `  gRPC:        ${grpcAddress}    metrics/health: http://${httpAddress}/metrics`,
      dev.gateway
        ? `  gateway:     ${dev.gateway.url}  (routes requests by the HTTPRoutes to built-in "stable" and "canary" backends)`
        : '  gateway:     off (--no-gateway): routes get no status; VerifyWeight judges by weights alone',
      `  auth:        ${authentication === 'NONE' ? 'NONE: any process that can reach the gRPC port may move traffic (dev mode only)' : authentication}`,
      '',
      '  try:',
      `    npx rollouts-companion call SetWeight --rollout examples/pinned-routes/rollout.yaml --weight 10`,
      ...(dev.gateway
        ? [
            `    for i in $(seq 10); do curl -s -H 'Host: app.example.com' ${dev.gateway.url}/; done | sort | uniq -c`,
            `    npx rollouts-companion status --kubeconfig ${kc} --rollout examples/pinned-routes/rollout.yaml --request 'GET app.example.com/ X-Canary:yes'`,
          ]
        : []),
      `    npx rollouts-companion status --kubeconfig ${kc} --rollout static-rollouts-demo`,
      `    kubectl --kubeconfig ${kc} get httproutes -o yaml`,
      '',
    ].join('\n'),
  );
}
