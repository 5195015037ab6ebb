import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeClient } from '../kube/client.js';
import { callApi, clientNodeApi, kubeConfigOf } from '../kube/client-node-api.js';
import { EVENT_COMPONENT, EventRecorder, EventType, type EventObject } from '../kube/events.js';
import { silentLogger, type Logger } from '../log.js';
import { createMetrics, RelabelResult, WatchedResource, type Metrics } from '../observability/metrics.js';
import { adoptionWarning, invalidAttachLabel, invalidNamespace, invalidOption, relabeledMessage, relabelFailed, rolloutReplicaSetWarning } from './errors.js';
import { Informer, type ListPage } from './informer.js';
import { LeaderElector, validateLeaderElection, type LeaderElectionConfig } from './leader.js';
import {
  DEFAULT_ATTACH_LABEL,
  Decision,
  decide,
  isValidLabelKey,
  podView,
  relabelPatch,
  rolloutView,
  serviceView,
  type PodView,
  type RolloutView,
  type ServiceView,
} from './rule.js';
import { looksUnreachable, RecoveryProbe } from './recovery.js';
import { withTimeout } from './timeout.js';
import { WorkQueue } from './workqueue.js';

// The long-lived canary controller: caches Rollouts, Argo-managed Services and attached pods
// (only those: the pod watch selects on the attach label server-side), and keeps every attached
// pod's `rollouts-pod-template-hash` equal to what its Rollout's traffic Service selects.

export interface CanaryControllerOptions {
  /** The process's client: every request shares its connection pool and rate limit. */
  kube: KubeClient;
  logger?: Logger;
  /** The pod label whose value names the Rollout to follow. */
  labelKey?: string;
  /** Namespaces to watch; all when absent or empty. */
  namespaces?: string[];
  /** Every attached pod is checked again this often, whatever the watches said. */
  resyncMs?: number;
  /** Pods relabeled at the same time. */
  concurrency?: number;
  /** Off (false or absent): this replica always writes. */
  leaderElection?: LeaderElectionConfig | false;
  metrics?: Metrics;
  /** Send the pod's resourceVersion with each patch (a concurrent change then means a retry). */
  resourceVersionPrecondition?: boolean;
  /**
   * Record Kubernetes Events: relabels on the Rollout (one Event per promotion, its count the
   * pods relabeled), problems on the pod. Written after the relabels of a burst.
   */
  recordEvents?: boolean;
  /** Starts a tracing span for one relabel; the returned function ends it (with the error, if any). */
  traceRelabel?: (attributes: Record<string, string>) => (error?: unknown) => void;
  /** Back-off of failed relabels. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Back-off of failed lists and watches. */
  watchBackoff?: { baseMs?: number; maxMs?: number };
  /** Server-side watch timeout (a random extra of up to the same again is added). */
  watchTimeoutSeconds?: number;
}

export interface StopOptions {
  /** Hand the lease back so a standby takes over at once (default true). */
  releaseLease?: boolean;
}

export interface CanaryStats {
  /** Attached pods cached (unattached pods are never fetched). */
  pods: number;
  rollouts: number;
  /** Argo-managed Services cached. */
  services: number;
  /** Pods waiting for, in, or scheduled for a retry of a relabel. */
  queued: number;
}

export interface CanaryController {
  stop(options?: StopOptions): Promise<void>;
  stats(): CanaryStats;
  /** All caches have been filled from a list. */
  ready(): boolean;
  /** This replica may patch pods (always true without leader election). */
  isLeader(): boolean;
}

export const CANARY_DEFAULTS = {
  labelKey: DEFAULT_ATTACH_LABEL,
  resyncMs: 5 * 60_000,
  concurrency: 16,
} as const;

const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FIELD_MANAGER = 'rollouts-companion';
const REQUEST_TIMEOUT_MS = 30_000;
const LIST_TIMEOUT_MS = 120_000;
const WRITE_PAUSE_RETRY_MS = 250;
/** Between probes of an API server that could not be reached (relabels resume within about this of its return). */
const RECOVERY_PROBE_MS = 250;
/** The longest one probe may wait for its answer. */
const RECOVERY_PROBE_TIMEOUT_MS = 2_000;

const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
};
const samePod = (a: PodView, b: PodView): boolean =>
  a.rollout === b.rollout && a.hash === b.hash && a.controller === b.controller && sameLabels(a.labels, b.labels);
const sameRollout = (a: RolloutView, b: RolloutView): boolean =>
  a.trafficService === b.trafficService &&
  a.stableRS === b.stableRS &&
  JSON.stringify(a.selector) === JSON.stringify(b.selector);
const sameService = (a: ServiceView, b: ServiceView): boolean => a.managedBy === b.managedBy && a.hash === b.hash;


function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

function describe(error: unknown): string {
  if (error instanceof ApiException) {
    const body = (typeof error.body === 'string' ? safeJson(error.body) : error.body) as { message?: unknown } | undefined;
    return typeof body?.message === 'string' ? `HTTP ${error.code}: ${body.message}` : `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Cached objects of one kind, over one informer per watched namespace (or one for all). */
class Caches<T> {
  constructor(
    private readonly byNamespace: Map<string, Informer<T>>,
    private readonly all: Informer<T> | undefined,
  ) {}

  get informers(): Informer<T>[] {
    return this.all ? [this.all] : [...this.byNamespace.values()];
  }

  get(namespace: string, name: string): T | undefined {
    return (this.all ?? this.byNamespace.get(namespace))?.get(`${namespace}/${name}`);
  }

  get size(): number {
    return this.informers.reduce((sum, informer) => sum + informer.size, 0);
  }
}

function validate(options: CanaryControllerOptions): void {
  const labelKey = options.labelKey ?? CANARY_DEFAULTS.labelKey;
  if (!isValidLabelKey(labelKey)) throw new Error(invalidAttachLabel(labelKey));
  for (const namespace of options.namespaces ?? []) {
    if (!DNS_LABEL.test(namespace)) throw new Error(invalidNamespace(namespace));
  }
  if (options.resyncMs !== undefined && !(options.resyncMs > 0)) {
    throw new Error(invalidOption('resyncMs', 'must be a positive number of milliseconds'));
  }
  if (options.concurrency !== undefined && !(options.concurrency >= 1)) {
    throw new Error(invalidOption('concurrency', 'must be at least 1'));
  }
  if (options.leaderElection) validateLeaderElection(options.leaderElection);
}

export async function startCanaryController(options: CanaryControllerOptions): Promise<CanaryController> {
  validate(options);
  const log = options.logger ?? silentLogger;
  const labelKey = options.labelKey ?? CANARY_DEFAULTS.labelKey;
  const namespaces = [...new Set(options.namespaces ?? [])];
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const kube = options.kube;
  const core = clientNodeApi(kube, CoreV1Api);
  const custom = clientNodeApi(kube, CustomObjectsApi);
  const watch = new Watch(kubeConfigOf(kube));
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  // `queue` is declared below; the recorder only waits on it once relabels run.
  const recorder =
    (options.recordEvents ?? true)
      ? new EventRecorder({
          kube,
          component: EVENT_COMPONENT,
          yieldTo: () => queue.idle(),
          onOutcome: (outcome, event, error) => {
            metrics.events.inc({ reason: event.reason, outcome });
            if (error !== undefined) log.debug({ err: describe(error), reason: event.reason, object: event.object.name }, 'could not record event');
          },
        })
      : undefined;

  const podsByRollout = new Map<string, Set<string>>();
  const rolloutsByService = new Map<string, Set<string>>();
  /** When the change a pod's pending relabel answers was first seen (for the delay histogram). */
  const observedAt = new Map<string, number>();
  /** What we last patched, by pod: skips a repeat while the watch has not caught up yet. */
  const applied = new Map<string, { fromResourceVersion?: string; hash: string }>();
  /** The problem last reported per pod: each is warned about once, then only counted. */
  const reported = new Map<string, string>();
  const reportOnce = (key: string, problem: string): boolean => {
    if (reported.get(key) === problem) return false;
    reported.set(key, problem);
    return true;
  };
  let stopping = false;
  let wasSynced = false;
  // `all` is declared below; handlers and the queue only run once the informers have started.
  const allSynced = (): boolean => all.every((informer) => informer.hasSynced());

  const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

  const index = (map: Map<string, Set<string>>, key: string, member: string, add: boolean): number => {
    let set = map.get(key);
    if (add) {
      if (!set) map.set(key, (set = new Set()));
      set.add(member);
    } else if (set) {
      set.delete(member);
      if (set.size === 0) map.delete(key);
    }
    return map.get(key)?.size ?? 0;
  };

  const trackAttached = (pod: PodView, add: boolean): void => {
    const count = index(podsByRollout, `${pod.namespace}/${pod.rollout}`, pod.name, add);
    const labels = { namespace: pod.namespace, rollout: pod.rollout };
    if (count > 0) metrics.attachedPods.set(labels, count);
    else metrics.attachedPods.remove(labels);
  };

  const enqueue = (key: string, at = Date.now()): void => {
    if (!observedAt.has(key)) observedAt.set(key, at);
    queue.add(key);
  };

  const enqueueRollout = (namespace: string, rollout: string, at = Date.now()): void => {
    for (const name of podsByRollout.get(`${namespace}/${rollout}`) ?? []) enqueue(podKey(namespace, name), at);
  };

  const enqueueAll = (): void => {
    const at = Date.now();
    for (const [rolloutKey, names] of podsByRollout) {
      const namespace = rolloutKey.slice(0, rolloutKey.indexOf('/'));
      for (const name of names) enqueue(podKey(namespace, name), at);
    }
  };

  const podObject = (pod: PodView): EventObject => ({ apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name });
  const rolloutObject = (rollout: RolloutView): EventObject => ({
    apiVersion: `${ROLLOUTS.group}/${ROLLOUTS.version}`,
    kind: 'Rollout',
    namespace: rollout.namespace,
    name: rollout.name,
    ...(rollout.uid ? { uid: rollout.uid } : {}),
  });

  let elector: LeaderElector | undefined;
  const canWrite = (): boolean => !stopping && (elector ? elector.canWrite() : true);

  const reconcile = async (key: string): Promise<void> => {
    if (!canWrite()) {
      // Still leading but the last renew failed: writes pause until the next renew succeeds.
      if (!stopping && elector?.isLeader()) queue.addAfter(key, WRITE_PAUSE_RETRY_MS);
      // Standby: the key is dropped; taking the lease enqueues every attached pod again.
      else observedAt.delete(key);
      return;
    }
    // Until every cache is filled, a pod listed before its Rollout would look orphaned; the
    // key is picked up again when the last cache syncs.
    if (!allSynced()) return;
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const pod = pods.get(namespace, name);
    if (!pod) {
      observedAt.delete(key);
      return;
    }
    const rollout = rollouts.get(namespace, pod.rollout);
    const service = rollout?.trafficService ? services.get(namespace, rollout.trafficService) : undefined;
    const decision = decide(pod, rollout, service);
    const context = { namespace, pod: name, rollout: pod.rollout };
    switch (decision.kind) {
      case Decision.RolloutMissing:
        observedAt.delete(key);
        metrics.relabels.inc({ result: RelabelResult.RolloutMissing });
        if (reportOnce(key, `missing ${pod.rollout}`)) {
          log.warn(context, 'attached pod names a Rollout that does not exist; leaving it alone');
          recorder?.record(podObject(pod), EventType.Warning, 'RolloutNotFound', `Rollout ${pod.rollout} (from label ${labelKey}) not found in namespace ${namespace}`);
        } else {
          log.debug(context, 'attached pod still names a missing Rollout');
        }
        return;
      case Decision.WouldBeAdopted:
        observedAt.delete(key);
        metrics.relabels.inc({ result: RelabelResult.WouldBeAdopted });
        if (reportOnce(key, `adopt ${pod.rollout} ${decision.hash}`)) {
          log.warn(
            { ...context, hash: decision.hash },
            'attached pod has no controller and matches the Rollout selector: with the hash label its ReplicaSet would take it over and delete it; leaving it alone',
          );
          recorder?.record(podObject(pod), EventType.Warning, 'WouldBeAdopted', adoptionWarning(pod.rollout, decision.hash));
        }
        return;
      case Decision.RolloutReplicaSetPod:
        observedAt.delete(key);
        metrics.relabels.inc({ result: RelabelResult.RolloutReplicaSetPod });
        if (reportOnce(key, `replicaset ${pod.controller} ${decision.hash}`)) {
          log.warn({ ...context, hash: decision.hash, controller: pod.controller }, "attached pod belongs to a Rollout's ReplicaSet: relabelled, it would be replaced over and over; leaving it alone");
          recorder?.record(podObject(pod), EventType.Warning, 'InRolloutReplicaSet', rolloutReplicaSetWarning(pod.controller!, decision.hash));
        }
        return;
      case Decision.NoHash:
        observedAt.delete(key);
        reported.delete(key);
        metrics.relabels.inc({ result: RelabelResult.NoHash });
        log.debug(context, 'Rollout has no stable pod-template hash yet; nothing to follow');
        return;
      case Decision.InSync:
        observedAt.delete(key);
        reported.delete(key);
        return;
      case Decision.Patch:
        break;
    }
    reported.delete(key);
    const last = applied.get(key);
    if (last && last.hash === decision.hash && last.fromResourceVersion === pod.resourceVersion) {
      return; // already patched; the watch event carrying it is on its way
    }
    const precondition = options.resourceVersionPrecondition ? pod.resourceVersion : undefined;
    const endSpan = options.traceRelabel?.({
      'k8s.namespace.name': namespace,
      'k8s.pod.name': name,
      'rollouts.rollout.name': pod.rollout,
      'rollouts.pod_template_hash': decision.hash,
    });
    try {
      await withTimeout(
        callApi(
          kube,
          () =>
            core.patchNamespacedPod(
              { name, namespace, body: relabelPatch(decision.hash, precondition), fieldManager: FIELD_MANAGER },
              mergePatch,
            ),
          // A leader's retries end with its last renew's deadline: after it, a standby may lead.
          { deadline: elector?.writeDeadline() },
        ),
        REQUEST_TIMEOUT_MS,
        `patch of pod ${namespace}/${name}`,
      );
    } catch (error) {
      endSpan?.(error);
      if (statusOf(error) === 404) {
        observedAt.delete(key);
        metrics.relabels.inc({ result: RelabelResult.PodGone });
        return;
      }
      metrics.relabels.inc({ result: RelabelResult.Error });
      throw new Error(`${relabelFailed(namespace, name)}: ${describe(error)}`, { cause: error });
    }
    endSpan?.();
    applied.set(key, { fromResourceVersion: pod.resourceVersion, hash: decision.hash });
    metrics.relabels.inc({ result: RelabelResult.Patched });
    const since = observedAt.get(key);
    observedAt.delete(key);
    if (since !== undefined) metrics.relabelDelay.observe((Date.now() - since) / 1000);
    log.info(
      { ...context, from: pod.hash ?? null, to: decision.hash, source: decision.source },
      'long-lived canary relabeled to follow its Rollout',
    );
    // On the Rollout, with the same message for each of its pods: a promotion is one Event
    // whose count is the number of pods relabeled, not one Event write per pod.
    if (rollout) recorder?.record(rolloutObject(rollout), EventType.Normal, 'Relabeled', relabeledMessage(decision.hash, decision.source, rollout.trafficService));
  };

  const queue = new WorkQueue(reconcile, {
    concurrency: options.concurrency ?? CANARY_DEFAULTS.concurrency,
    baseDelayMs: options.retry?.baseDelayMs ?? 100,
    maxDelayMs: options.retry?.maxDelayMs ?? 60_000,
    onError: (key, error, failures, retryInMs) => {
      if (looksUnreachable((error as { cause?: unknown }).cause)) recovery.trigger();
      log.warn({ pod: key, err: error instanceof Error ? error.message : String(error), failures, retryInMs }, 'relabel failed; will retry');
    },
  });

  const recovery = new RecoveryProbe({
    // One attempt, outside the client's retries and rate limit: a probe retried until the server
    // answers would never be seen failing, and one queued behind waiting relabels would be late.
    probe: async () => {
      const { status } = await kube.exchange('GET', '/version', {}, undefined, AbortSignal.timeout(RECOVERY_PROBE_TIMEOUT_MS));
      if (status === 429 || status >= 500) throw new Error(`version probe answered HTTP ${status}`);
    },
    intervalMs: RECOVERY_PROBE_MS,
    onRecovered: () => {
      log.info('API server answering again; retrying watches and relabels now');
      for (const informer of all) informer.wake();
      queue.retryNow();
    },
  });

  const informerCommon = (resource: WatchedResource) => ({
    resource,
    watch,
    backoffBaseMs: options.watchBackoff?.baseMs,
    backoffMaxMs: options.watchBackoff?.maxMs,
    watchTimeoutSeconds: options.watchTimeoutSeconds,
    onRestart: () => metrics.watchRestarts.inc({ resource }),
    onSynced: () => {
      log.debug({ resource }, 'cache filled from a list');
      if (!wasSynced && allSynced()) {
        wasSynced = true;
        enqueueAll();
      }
    },
    onError: (error: unknown, phase: 'list' | 'watch', retryInMs: number) => {
      if (looksUnreachable(error)) recovery.trigger();
      log.warn({ resource, phase, err: describe(error), retryInMs }, `${resource} ${phase} failed; retrying`);
    },
  });

  const scopes: (string | undefined)[] = namespaces.length > 0 ? namespaces : [undefined];

  const podInformer = (namespace: string | undefined): Informer<PodView> =>
    new Informer<PodView>({
      ...informerCommon(WatchedResource.Pods),
      path: namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
      labelSelector: labelKey,
      list: (o) => {
        const request = { labelSelector: o.labelSelector, limit: o.limit, _continue: o.continue };
        const list = callApi(kube, () => (namespace ? core.listNamespacedPod({ namespace, ...request }) : core.listPodForAllNamespaces(request)));
        return withTimeout(list as Promise<ListPage>, LIST_TIMEOUT_MS, 'list of pods');
      },
      project: (object) => podView(object as Parameters<typeof podView>[0], labelKey),
      equal: samePod,
      handlers: {
        add: (pod) => {
          trackAttached(pod, true);
          enqueue(podKey(pod.namespace, pod.name));
        },
        update: (previous, pod) => {
          if (previous.rollout !== pod.rollout) {
            trackAttached(previous, false);
            trackAttached(pod, true);
          }
          enqueue(podKey(pod.namespace, pod.name));
        },
        delete: (pod) => {
          trackAttached(pod, false);
          const key = podKey(pod.namespace, pod.name);
          applied.delete(key);
          reported.delete(key);
          observedAt.delete(key);
        },
      },
    });

  const rolloutInformer = (namespace: string | undefined): Informer<RolloutView> => {
    const indexService = (rollout: RolloutView, add: boolean): void => {
      if (rollout.trafficService) {
        index(rolloutsByService, `${rollout.namespace}/${rollout.trafficService}`, rollout.name, add);
      }
    };
    return new Informer<RolloutView>({
      ...informerCommon(WatchedResource.Rollouts),
      path: namespace
        ? `/apis/${ROLLOUTS.group}/${ROLLOUTS.version}/namespaces/${namespace}/${ROLLOUTS.plural}`
        : `/apis/${ROLLOUTS.group}/${ROLLOUTS.version}/${ROLLOUTS.plural}`,
      list: (o) => {
        const request = { ...ROLLOUTS, limit: o.limit, _continue: o.continue };
        const list = callApi(kube, () =>
          namespace ? custom.listNamespacedCustomObject({ namespace, ...request }) : custom.listClusterCustomObject(request),
        );
        return withTimeout(list as Promise<ListPage>, LIST_TIMEOUT_MS, 'list of rollouts');
      },
      project: (object) => rolloutView(object as Parameters<typeof rolloutView>[0]),
      equal: sameRollout,
      handlers: {
        add: (rollout) => {
          indexService(rollout, true);
          enqueueRollout(rollout.namespace, rollout.name);
        },
        update: (previous, rollout) => {
          indexService(previous, false);
          indexService(rollout, true);
          enqueueRollout(rollout.namespace, rollout.name);
        },
        delete: (rollout) => {
          indexService(rollout, false);
          enqueueRollout(rollout.namespace, rollout.name);
        },
      },
    });
  };

  const serviceInformer = (namespace: string | undefined): Informer<ServiceView> => {
    const changed = (service: ServiceView): void => {
      const at = Date.now();
      const targets = new Set(rolloutsByService.get(`${service.namespace}/${service.name}`) ?? []);
      if (service.managedBy) targets.add(service.managedBy);
      for (const rollout of targets) enqueueRollout(service.namespace, rollout, at);
    };
    return new Informer<ServiceView>({
      ...informerCommon(WatchedResource.Services),
      path: namespace ? `/api/v1/namespaces/${namespace}/services` : '/api/v1/services',
      list: (o) => {
        const request = { limit: o.limit, _continue: o.continue };
        const list = callApi(kube, () =>
          namespace ? core.listNamespacedService({ namespace, ...request }) : core.listServiceForAllNamespaces(request),
        );
        return withTimeout(list as Promise<ListPage>, LIST_TIMEOUT_MS, 'list of services');
      },
      project: (object) => serviceView(object as Parameters<typeof serviceView>[0]),
      equal: sameService,
      handlers: { add: changed, update: (_previous, service) => changed(service), delete: changed },
    });
  };

  const build = <T>(make: (namespace: string | undefined) => Informer<T>): Caches<T> => {
    if (namespaces.length === 0) return new Caches<T>(new Map(), make(undefined));
    return new Caches<T>(new Map(scopes.map((ns) => [ns as string, make(ns)])), undefined);
  };

  // Rollouts and Services first, so the first pod events already find what they follow.
  const rollouts = build(rolloutInformer);
  const services = build(serviceInformer);
  const pods = build(podInformer);
  const all = [...rollouts.informers, ...services.informers, ...pods.informers];

  if (options.leaderElection) {
    const config = options.leaderElection;
    elector = new LeaderElector({
      ...config,
      // The pool, but not kube.call: its retries would hide a failed renew, and the elector
      // must stop writes at the first one (it retries on its own period, within its deadline).
      api: clientNodeApi(kube, CoordinationV1Api),
      onStartedLeading: () => {
        metrics.leader.set(1);
        log.info({ identity: config.identity, lease: `${config.leaseNamespace}/${config.leaseName}` }, 'became leader');
        enqueueAll();
      },
      onStoppedLeading: (reason) => {
        metrics.leader.set(0);
        log.warn({ identity: config.identity, reason }, 'stopped leading; pod writes stopped');
      },
      onError: (error) => log.warn({ err: describe(error) }, 'lease acquire/renew failed'),
    });
    metrics.leader.set(0);
  } else {
    metrics.leader.set(1);
  }

  for (const informer of all) informer.start();
  elector?.start();
  const resyncTimer = setInterval(enqueueAll, options.resyncMs ?? CANARY_DEFAULTS.resyncMs);
  resyncTimer.unref();
  log.info(
    { labelKey, namespaces: namespaces.length > 0 ? namespaces : 'all', leaderElection: Boolean(elector) },
    'long-lived canary controller started',
  );

  let stopped: Promise<void> | undefined;
  return {
    ready: () => allSynced(),
    stats: () => ({ pods: pods.size, rollouts: rollouts.size, services: services.size, queued: queue.size }),
    isLeader: () => !stopping && (elector ? elector.isLeader() : true),
    stop: (stopOptions: StopOptions = {}) =>
      (stopped ??= (async () => {
        stopping = true;
        clearInterval(resyncTimer);
        recovery.stop();
        await elector?.stop();
        await queue.shutdown();
        await Promise.all(all.map((informer) => informer.stop()));
        await recorder?.flush();
        if (elector && stopOptions.releaseLease !== false) {
          await withTimeout(elector.release(), REQUEST_TIMEOUT_MS, 'lease release').catch((error: unknown) =>
            log.warn({ err: describe(error) }, 'could not release the lease'),
          );
        }
        metrics.leader.set(0);
        for (const [rolloutKey, names] of podsByRollout) {
          const slash = rolloutKey.indexOf('/');
          if (names.size > 0) metrics.attachedPods.remove({ namespace: rolloutKey.slice(0, slash), rollout: rolloutKey.slice(slash + 1) });
        }
        log.info('long-lived canary controller stopped');
      })()),
  };
}
