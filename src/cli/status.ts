import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_PLUGIN_NAME } from '../routing/api.js';
import { parseRouterConfig, type RouterConfig } from '../routing/config.js';
import { describeRoutes, type StatusRow } from '../routing/describe.js';
import type { Rollout } from '../routing/rollout.js';
import { RouteNotFoundError, type RouteObject, type RouteRef } from '../routing/route-store.js';
import { KubeClient } from '../kube/client.js';
import { KubeRouteStore } from '../kube/route-store.js';
import { apiErrorMessage } from '../kube/api-error.js';
import { resourcePath } from '../kube/paths.js';
import { ROLLOUT_RESOURCE, rolloutTarget } from '../kube/rollouts.js';
import { readRollout } from './manifests.js';
import { readRollout as readStoredRollout } from '../kube/rollouts.js';
import { describeGates, renderGates } from '../step/describe.js';
import { describeDecision, parseRequest, selectRule, type Decision } from '../routing/traffic/index.js';

// `rollouts-companion status --rollout NAME|FILE`: what the routes of one Rollout look like
// right now, per route: host → rule → backend → weight, pinned and in-progress marked.

interface StatusOptions {
  rollout: string;
  namespace: string;
  kubeconfig?: string;
  context?: string;
  pluginName: string;
  output: 'text' | 'json';
  request?: string;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('print the routes of a Rollout (host → rule → backend → weight, pinned and in-progress marked) and its lockstep gates')
    .requiredOption('-r, --rollout <name|file>', 'a Rollout in the cluster, or a manifest file')
    .option('-n, --namespace <ns>', 'namespace of the Rollout', 'default')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--plugin-name <name>', 'trafficRouting.plugins key to read', DEFAULT_PLUGIN_NAME)
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--request <request>', `where one request goes instead: 'GET app.example.com/path Header:value' or 'GRPC host pkg.Service/Method'`)
    .action(async (opts: StatusOptions) => {
      const kube = new KubeClient({ kubeconfig: opts.kubeconfig, context: opts.context });
      const rollout = existsSync(opts.rollout) ? await readRollout(opts.rollout, opts.namespace) : await fetchRollout(kube, opts);
      // Lockstep gates: each member, the step it is at, who is being waited for and since when.
      const gates = await describeGates(rollout, (ns, name) => readStoredRollout(kube, ns, name));
      const routed = Object.hasOwn(rollout.spec?.strategy?.canary?.trafficRouting?.plugins ?? {}, opts.pluginName);
      if (gates.length > 0 && !routed) {
        process.stdout.write(opts.output === 'json' ? `${JSON.stringify({ gates }, null, 2)}\n` : renderGates(gates));
        return;
      }
      const config = parseRouterConfig(rollout, opts.pluginName);
      const { routes, missing } = await fetchRoutes(new KubeRouteStore(kube), config);
      if (opts.request !== undefined) {
        const decision = selectRule(routes, parseRequest(opts.request));
        const rows = describeRoutes(routes, config);
        process.stdout.write(opts.output === 'json' ? `${JSON.stringify({ request: opts.request, decision: decision ?? null }, null, 2)}\n` : renderRequest(opts.request, decision, rows));
        return;
      }
      const rows = describeRoutes(routes, config);
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify({ rows, missing, gates }, null, 2)}\n` : render(rows, missing) + renderGates(gates));
    });
}

async function fetchRollout(kube: KubeClient, opts: StatusOptions): Promise<Rollout> {
  try {
    return await kube.request<Rollout>({ method: 'GET', path: resourcePath(ROLLOUT_RESOURCE, opts.namespace, opts.rollout) });
  } catch (err) {
    throw new Error(`${apiErrorMessage(rolloutTarget(opts.namespace, opts.rollout), err)} (pass a manifest file to --rollout to skip this)`, { cause: err });
  }
}

async function fetchRoutes(store: KubeRouteStore, config: RouterConfig): Promise<{ routes: RouteObject[]; missing: string[] }> {
  const refs: RouteRef[] = [...config.routes.map((r) => r.ref), ...config.pinned.stable, ...config.pinned.canary];
  const routes: RouteObject[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      routes.push(await store.get(ref));
    } catch (err) {
      if (!(err instanceof RouteNotFoundError)) throw err;
      missing.push(`${ref.kind} ${ref.namespace}/${ref.name}`);
    }
  }
  for (const s of config.selectors) routes.push(...(await store.list(s.kind, s.namespace, s.selector)));
  return { routes, missing };
}

/** One request's way: the route and rule the gateway picks (Gateway API precedence) and its backends. */
export function renderRequest(request: string, decision: Decision | undefined, rows: StatusRow[]): string {
  if (!decision) return `${request}\n  → no route of this Rollout matches (the gateway answers 404)\n`;
  const { route, ruleIndex, ruleName } = decision;
  const managedRoute = rows.find((r) => r.route === `${route.namespace}/${route.name}` && r.kind === route.kind && r.ruleIndex === ruleIndex)?.managedRoute;
  const rule = `rule ${ruleIndex}${ruleName ? ` "${ruleName}"` : ''}${managedRoute ? ` (managed: ${managedRoute})` : ''}`;
  const name = (b: { namespace: string; name: string; kind: string; group: string }) =>
    `${b.kind === 'Service' && b.group === '' ? '' : `${b.kind} `}${b.namespace === route.namespace ? '' : `${b.namespace}/`}${b.name}`;
  return `${request}\n  → ${route.kind} ${route.namespace}/${route.name} ${rule}\n  → ${describeDecision(decision, name)}\n`;
}

export function render(rows: StatusRow[], missing: string[]): string {
  const lines: string[] = [];
  for (const [route, routeRows] of groupBy(rows, (r) => `${r.kind} ${r.route}`)) {
    const first = routeRows[0]!;
    const tags = [
      first.managed ? 'managed' : undefined,
      first.pinned ? `pinned: ${first.pinned} only` : undefined,
      first.inProgress ? 'canary in progress' : undefined,
    ].filter(Boolean);
    lines.push(`${route}${tags.length ? `  [${tags.join(', ')}]` : ''}`);
    lines.push(`  ${first.hosts.length ? first.hosts.join(', ') : '(any host)'}`);
    for (const ruleRows of groupBy(routeRows, (r) => r.ruleIndex).values()) {
      const r0 = ruleRows[0]!;
      const name = r0.ruleName && r0.ruleName !== r0.managedRoute ? ` ${r0.ruleName}` : '';
      const rule = `rule ${r0.ruleIndex}${name}${r0.managedRoute ? ` (managed: ${r0.managedRoute})` : ''}`;
      ruleRows.forEach((r, i) => {
        lines.push(`    ${(i === 0 ? rule : '').padEnd(36)} → ${r.backend.padEnd(34)} weight ${String(r.weight).padStart(3)}  (${r.percent}%)`);
      });
    }
  }
  for (const m of missing) lines.push(`${m}  [NOT FOUND]`);
  return `${lines.join('\n')}\n`;
}

// Map.groupBy arrives with Node 21; we support 20.
function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}
