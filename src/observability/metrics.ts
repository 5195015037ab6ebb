import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// Every metric the companion exports, on one registry per process (tests make their own).
// Names and labels are a public contract: dashboards and alerts depend on them.

export const RelabelResult = {
  /** The pod's hash label was changed to follow its Rollout. */
  Patched: 'patched',
  /** The patch failed; it is retried with back-off. */
  Error: 'error',
  /** The attach label names a Rollout that does not exist; the pod was left alone. */
  RolloutMissing: 'rollout_missing',
  /** Neither the Service selector nor `status.stableRS` names a hash yet. */
  NoHash: 'no_hash',
  /** The pod has no controller and, with the hash, the Rollout's ReplicaSet would adopt (and likely delete) it. */
  WouldBeAdopted: 'would_be_adopted',
  /** The pod belongs to a Rollout's own ReplicaSet: relabelled, it would leave it and be replaced, over and over. */
  RolloutReplicaSetPod: 'rollout_replicaset_pod',
  /** The pod disappeared before the patch landed. */
  PodGone: 'pod_gone',
} as const;
export type RelabelResult = (typeof RelabelResult)[keyof typeof RelabelResult];

export const WatchedResource = { Pods: 'pods', Services: 'services', Rollouts: 'rollouts' } as const;
export type WatchedResource = (typeof WatchedResource)[keyof typeof WatchedResource];

export interface Metrics {
  registry: Registry;
  relabels: Counter<'result'>;
  relabelDelay: Histogram<never>;
  attachedPods: Gauge<'namespace' | 'rollout'>;
  watchRestarts: Counter<'resource'>;
  leader: Gauge<never>;
  rpcRequests: Counter<'method' | 'result'>;
  rpcDuration: Histogram<'method'>;
  routeWrites: Counter<'kind'>;
  routeConflicts: Counter<'kind'>;
  gateMembersWaiting: Gauge<'namespace' | 'gate'>;
  gateWaitSeconds: Gauge<'namespace' | 'gate'>;
  gateWaitDuration: Histogram<'outcome'>;
  events: Counter<'reason' | 'outcome'>;
  kubeRequests: Counter<'verb' | 'code'>;
  kubeRequestDuration: Histogram<'verb'>;
  openConnections: Gauge<'direction'>;
  connectionsOpened: Counter<'direction'>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC); on unless false. */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    relabels: new Counter({
      name: 'rollouts_companion_relabels_total',
      help: 'Long-lived canary pod relabel attempts by result.',
      labelNames: ['result'] as const,
      registers,
    }),
    relabelDelay: new Histogram({
      name: 'rollouts_companion_relabel_delay_seconds',
      help: 'Time from observing a traffic membership change to the pod label patch being acknowledged.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    attachedPods: new Gauge({
      name: 'rollouts_companion_attached_pods',
      help: 'Pods attached to a Rollout as long-lived canaries.',
      labelNames: ['namespace', 'rollout'] as const,
      registers,
    }),
    watchRestarts: new Counter({
      name: 'rollouts_companion_watch_restarts_total',
      help: 'Watches re-established after ending or failing, by resource.',
      labelNames: ['resource'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'rollouts_companion_leader',
      help: '1 while this replica holds the leader lease (or runs without leader election), else 0.',
      registers,
    }),
    rpcRequests: new Counter({
      name: 'rollouts_companion_rpc_requests_total',
      help: 'Traffic-router RPCs by method and result.',
      labelNames: ['method', 'result'] as const,
      registers,
    }),
    rpcDuration: new Histogram({
      name: 'rollouts_companion_rpc_duration_seconds',
      help: 'Traffic-router RPC duration by method.',
      labelNames: ['method'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    routeWrites: new Counter({
      name: 'rollouts_companion_route_writes_total',
      help: 'Writes of route objects by kind.',
      labelNames: ['kind'] as const,
      registers,
    }),
    routeConflicts: new Counter({
      name: 'rollouts_companion_route_conflicts_total',
      help: 'Route writes rejected with a conflict (409) by kind.',
      labelNames: ['kind'] as const,
      registers,
    }),
    gateMembersWaiting: new Gauge({
      name: 'rollouts_companion_gate_members_waiting',
      help: 'Member Rollouts waiting at a lockstep gate, as of the latest Run of any member (namespace of that member).',
      labelNames: ['namespace', 'gate'] as const,
      registers,
    }),
    gateWaitSeconds: new Gauge({
      name: 'rollouts_companion_gate_wait_seconds',
      help: 'How long the longest-waiting member has been waiting at a lockstep gate (0 when nobody waits).',
      labelNames: ['namespace', 'gate'] as const,
      registers,
    }),
    gateWaitDuration: new Histogram({
      name: 'rollouts_companion_gate_wait_duration_seconds',
      help: 'Time members spent at a lockstep gate, by outcome (Successful: left with the others; Failed: aborted with them or timed out).',
      labelNames: ['outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    events: new Counter({
      name: 'rollouts_companion_events_total',
      help: 'Kubernetes Event occurrences by reason and outcome (created, aggregated, coalesced, rate_limited, failed).',
      labelNames: ['reason', 'outcome'] as const,
      registers,
    }),
    kubeRequests: new Counter({
      name: 'rollouts_companion_kube_requests_total',
      help: 'Kubernetes API request attempts by verb and HTTP status code (0: no answer).',
      labelNames: ['verb', 'code'] as const,
      registers,
    }),
    kubeRequestDuration: new Histogram({
      name: 'rollouts_companion_kube_request_duration_seconds',
      help: 'Kubernetes API request attempt duration by verb.',
      labelNames: ['verb'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    openConnections: new Gauge({
      name: 'rollouts_companion_open_connections',
      help: 'Open TCP and unix-socket connections: outbound (API server, companion), inbound (plugin host, scrapes, gRPC clients).',
      labelNames: ['direction'] as const,
      registers,
    }),
    connectionsOpened: new Counter({
      name: 'rollouts_companion_connections_opened_total',
      help: 'Connections opened since start, by direction (a keep-alive pool keeps the outbound count flat).',
      labelNames: ['direction'] as const,
      registers,
    }),
  };
}
