import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { invalidLeaderElection } from './errors.js';
import { withTimeout } from './timeout.js';
import { Sleeper } from './sleeper.js';

// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder
// renews every retry period; others take over once the record stayed unchanged for the lease
// duration as measured on their own clock (no clock-skew assumptions); every write carries the
// resourceVersion it was based on, so two candidates never both win. Writes are allowed only
// right after a successful renew: a failed renew stops them at once, and leadership ends when
// no renew succeeded for the renew deadline (which is shorter than the lease duration, so the
// old leader has stopped before anyone else can acquire).

export interface LeaderElectionConfig {
  leaseName: string;
  leaseNamespace: string;
  /** Unique per replica (pod name). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
}

type Timed = LeaderElectionConfig & Required<Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>>;

export const DEFAULT_LEADER_ELECTION_TIMING = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

/** The Lease calls the elector makes (the controller sends them through its KubeClient). */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectorOptions extends LeaderElectionConfig {
  api: LeaseApi;
  onStartedLeading(): void;
  onStoppedLeading(reason: string): void;
  onError?(error: unknown): void;
}

function withDefaults<T extends LeaderElectionConfig>(config: T): T & Timed {
  return {
    ...config,
    leaseDurationMs: config.leaseDurationMs ?? DEFAULT_LEADER_ELECTION_TIMING.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs ?? DEFAULT_LEADER_ELECTION_TIMING.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs ?? DEFAULT_LEADER_ELECTION_TIMING.retryPeriodMs,
  };
}

/** Throws when the timings cannot give the guarantee above. */
export function validateLeaderElection(input: LeaderElectionConfig): void {
  const config = withDefaults(input);
  const fields = ['leaseName', 'leaseNamespace', 'identity'] as const;
  for (const field of fields) {
    if (!config[field]) throw new Error(invalidLeaderElection(field, 'must not be empty'));
  }
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = config;
  if (!(leaseDurationMs >= 1000)) {
    throw new Error(invalidLeaderElection('leaseDurationMs', 'must be at least 1000 (leases count whole seconds)'));
  }
  if (!(renewDeadlineMs < leaseDurationMs)) {
    throw new Error(invalidLeaderElection('renewDeadlineMs', 'must be shorter than leaseDurationMs'));
  }
  if (!(retryPeriodMs > 0 && retryPeriodMs * 1.2 < renewDeadlineMs)) {
    throw new Error(invalidLeaderElection('retryPeriodMs', 'must be positive and well below renewDeadlineMs'));
  }
}

function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

export class LeaderElector {
  private leading = false;
  private writable = false;
  private lastRenewAt = 0;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();
  /** The last lease record seen and when (locally) it last changed. */
  private observed: { record: string; at: number } | undefined;
  private readonly options: LeaderElectorOptions & Timed;

  constructor(options: LeaderElectorOptions) {
    validateLeaderElection(options);
    this.options = withDefaults(options);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** True while this replica may write: leading, and the last renew is fresh. */
  canWrite(): boolean {
    return this.writeDeadline() !== undefined;
  }

  /**
   * Until when a write may still be sent (epoch ms): the last renew plus the renew deadline,
   * which is shorter than the lease, so no other replica can hold the lease before then.
   * Undefined while this replica may not write.
   */
  writeDeadline(): number | undefined {
    const until = this.lastRenewAt + this.options.renewDeadlineMs;
    return this.leading && this.writable && !this.stopped && Date.now() < until ? until : undefined;
  }

  isLeader(): boolean {
    return this.leading && !this.stopped;
  }

  /** Stops campaigning and renewing; writes stop at once. The lease stays held until `release`. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    await this.loop;
    if (this.leading) this.lose('stopped');
  }

  /** Hands the lease back so a standby takes over without waiting for it to expire. */
  async release(): Promise<void> {
    const { api, leaseName: name, leaseNamespace: namespace, identity } = this.options;
    const lease = await api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    const now = new V1MicroTime();
    await api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now },
      },
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const attemptAt = Date.now();
      let renewed = false;
      try {
        // A renew still unanswered at the deadline has failed, whatever it later returns.
        renewed = await withTimeout(this.tryAcquireOrRenew(attemptAt), this.options.renewDeadlineMs, 'lease renewal');
      } catch (error) {
        this.options.onError?.(error);
      }
      if (this.stopped) break;
      if (renewed) {
        this.lastRenewAt = attemptAt;
        this.writable = true;
        if (!this.leading) {
          this.leading = true;
          this.options.onStartedLeading();
        }
      } else if (this.leading) {
        this.writable = false;
        const heldByOther = this.observedHolder() !== this.options.identity;
        if (heldByOther) this.lose('lease taken by another holder');
        else if (Date.now() - this.lastRenewAt >= this.options.renewDeadlineMs) this.lose('renew deadline exceeded');
      }
      const period = this.options.retryPeriodMs;
      await this.sleeper.sleep(this.leading ? period : period * (1 + Math.random() * 0.2));
    }
  }

  private lose(reason: string): void {
    this.leading = false;
    this.writable = false;
    this.options.onStoppedLeading(reason);
  }

  private observedHolder(): string | undefined {
    return this.observed ? (JSON.parse(this.observed.record) as { holder?: string }).holder : undefined;
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { api, leaseName: name, leaseNamespace: namespace, identity } = this.options;
    const leaseDurationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      const time = new V1MicroTime(now);
      try {
        await api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: time, renewTime: time, leaseTransitions: 0 },
          },
        });
      } catch (createError) {
        if (isStatus(createError, 409)) return false; // another candidate created it first
        throw createError;
      }
      this.observe(identity, String(now), now);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity || undefined;
    this.observe(holder, `${String(spec.renewTime)}|${lease.metadata?.resourceVersion ?? ''}`, now);
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = this.observed !== undefined && now - this.observed.at >= durationMs;
    if (holder !== undefined && holder !== identity && !expired) return false;
    const time = new V1MicroTime(now);
    const ours = holder === identity;
    try {
      await api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: ours ? spec.acquireTime : time,
            renewTime: time,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
          },
        },
      });
    } catch (error) {
      if (isStatus(error, 409)) return false; // someone else wrote first; look again next round
      throw error;
    }
    this.observe(identity, `renewed@${now}`, now);
    return true;
  }

  private observe(holder: string | undefined, version: string, now: number): void {
    const record = JSON.stringify({ holder, version });
    if (this.observed?.record !== record) this.observed = { record, at: now };
  }

}
