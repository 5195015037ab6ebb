import { expect } from 'chai';
import { ApiException, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { LeaderElector, validateLeaderElection } from '../../../src/canary/leader.js';

/** The Lease part of the coordination API, with optimistic concurrency and switchable failures. */
class FakeLeases {
  lease: V1Lease | undefined;
  private rv = 0;
  mode: 'ok' | 'fail' | 'hang' = 'ok';

  private async gate(): Promise<void> {
    if (this.mode === 'fail') throw new ApiException(500, 'boom', '{"message":"etcd unavailable"}', {});
    if (this.mode === 'hang') await new Promise(() => undefined);
  }

  readNamespacedLease = async (): Promise<V1Lease> => {
    await this.gate();
    if (!this.lease) throw new ApiException(404, 'not found', '{}', {});
    return structuredClone(this.lease);
  };

  createNamespacedLease = async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    await this.gate();
    if (this.lease) throw new ApiException(409, 'exists', '{}', {});
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  };

  replaceNamespacedLease = async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    await this.gate();
    if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ApiException(409, 'conflict', '{}', {});
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  };
}

const until = async (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

function candidate(leases: FakeLeases, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector({
    api: leases as unknown as CoordinationV1Api,
    leaseName: 'canaries',
    leaseNamespace: 'argo-rollouts',
    identity,
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 50,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: (reason) => log.push(`stopped: ${reason}`),
  });
  return { elector, log };
}

describe('canary leader election', () => {
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });

  /** Two replicas: a holds the lease, b is standing by. */
  async function aLeadsBWaits() {
    const leases = new FakeLeases();
    const a = candidate(leases, 'replica-a');
    const b = candidate(leases, 'replica-b');
    electors.push(b.elector);
    a.elector.start();
    await until(() => a.elector.isLeader(), 'a to lead');
    b.elector.start();
    return { leases, a, b };
  }

  it('Given no lease, Then the candidate creates it, leads and may write', async () => {
    const leases = new FakeLeases();
    const a = candidate(leases, 'replica-a');
    electors.push(a.elector);
    a.elector.start();
    await until(() => a.elector.isLeader(), 'a to lead');
    expect(a.elector.canWrite()).to.equal(true);
    expect(leases.lease?.spec).to.include({ holderIdentity: 'replica-a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(a.log).to.deep.equal(['started']);
  });

  it('Given a lease held and renewed by another, Then the candidate waits', async () => {
    const leases = new FakeLeases();
    const a = candidate(leases, 'replica-a');
    const b = candidate(leases, 'replica-b');
    electors.push(a.elector, b.elector);
    a.elector.start();
    await until(() => a.elector.isLeader(), 'a to lead');
    b.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(b.elector.isLeader()).to.equal(false);
    expect(leases.lease?.spec?.holderIdentity).to.equal('replica-a');
  });

  it('Given renewals failing, Then writes stop at the first failure and leadership ends at the renew deadline', async () => {
    const leases = new FakeLeases();
    const a = candidate(leases, 'replica-a');
    electors.push(a.elector);
    a.elector.start();
    await until(() => a.elector.isLeader(), 'a to lead');
    leases.mode = 'fail';
    await until(() => !a.elector.canWrite(), 'writes to stop');
    await until(() => !a.elector.isLeader(), 'leadership to end');
    expect(a.log).to.deep.equal(['started', 'stopped: renew deadline exceeded']);
    leases.mode = 'ok';
    await until(() => a.elector.isLeader(), 'a to lead again');
  });

  it('Given renewals that never answer, Then leadership still ends at the renew deadline', async () => {
    const leases = new FakeLeases();
    const a = candidate(leases, 'replica-a');
    electors.push(a.elector);
    a.elector.start();
    await until(() => a.elector.isLeader(), 'a to lead');
    leases.mode = 'hang';
    await until(() => !a.elector.isLeader(), 'leadership to end');
    expect(a.elector.canWrite()).to.equal(false);
    leases.mode = 'ok';
  });

  it('Given the holder stops without releasing, Then another takes over after the lease expires, counting a transition', async () => {
    const { leases, a, b } = await aLeadsBWaits();
    await a.elector.stop();
    expect(a.elector.canWrite()).to.equal(false);
    await until(() => b.elector.isLeader(), 'b to take over');
    expect(leases.lease?.spec).to.include({ holderIdentity: 'replica-b', leaseTransitions: 1 });
  });

  it('Given the holder releases, Then another takes over without waiting for expiry', async () => {
    const { leases, a, b } = await aLeadsBWaits();
    await a.elector.stop();
    await a.elector.release();
    expect(leases.lease?.spec?.holderIdentity).to.equal(undefined);
    await until(() => b.elector.isLeader(), 'b to take over');
  });

  it('rejects timings that cannot keep two leaders apart', () => {
    const base = { leaseName: 'l', leaseNamespace: 'n', identity: 'i' };
    expect(() => validateLeaderElection({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).to.throw(
      'leaderElection.renewDeadlineMs: must be shorter than leaseDurationMs',
    );
    expect(() => validateLeaderElection({ ...base, identity: '' })).to.throw('leaderElection.identity: must not be empty');
    expect(() => validateLeaderElection(base)).not.to.throw();
  });
});
