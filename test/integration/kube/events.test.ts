import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { EventOutcome, EventRecorder, EventType, type EventObject, type EventRecorderOptions } from '../../../src/kube/events.js';

// The recorder through the real client against the in-process API server: what `kubectl get
// events` would show, and how many requests it took.

interface Event {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; uid?: string };
  type: string;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
}

const NS = 'rollouts-demo';
const rollout = (name: string): EventObject => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace: NS, name, uid: `uid-${name}` });

describe('EventRecorder (through the real client against the in-process API server)', () => {
  let api: ApiServer;
  let outcomes: EventOutcome[];
  const events = (): Event[] => api.list('v1', 'Event', NS) as unknown as Event[];
  const eventRequests = () => api.requestLog.filter((r) => r.path.includes('/events'));
  const recorder = (options: Partial<EventRecorderOptions> = {}) =>
    new EventRecorder({
      kube: new KubeClient({ kubeConfig: api.kubeConfig(), qps: 1000, burst: 1000 }),
      component: 'rollouts-companion',
      onOutcome: (outcome) => outcomes.push(outcome),
      ...options,
    });

  beforeEach(async () => {
    api = await startApiServer();
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    outcomes = [];
  });
  afterEach(async () => api.close());

  it('Given the same reason, object and message five times at once, Then one Event says count 5, written with at most two requests', async () => {
    const r = recorder();
    for (let i = 0; i < 5; i += 1) r.record(rollout('demo'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 10');
    await r.flush();

    const [event, ...more] = events();
    expect(more).to.deep.equal([]);
    expect(event).to.deep.include({ type: 'Normal', reason: 'TrafficWeightUpdated', message: 'canary weight 10', count: 5 });
    expect(event.involvedObject).to.deep.include({ kind: 'Rollout', name: 'demo', uid: 'uid-demo' });
    expect(event.source.component).to.equal('rollouts-companion');
    expect(eventRequests().length).to.be.at.most(2);
  });

  it('Given an Event already written, When it happens again, Then its count goes up with one PATCH and no new Event', async () => {
    const r = recorder();
    r.record(rollout('demo'), EventType.Normal, 'HeaderRouteSet', 'header route canary-header set');
    await r.flush();
    r.record(rollout('demo'), EventType.Normal, 'HeaderRouteSet', 'header route canary-header set');
    await r.flush();

    expect(events().map((e) => e.count)).to.deep.equal([2]);
    expect(eventRequests().map((e) => e.method)).to.deep.equal(['POST', 'PATCH']);
    expect(outcomes).to.deep.equal([EventOutcome.Created, EventOutcome.Aggregated]);
  });

  it('Given different messages or objects, Then each gets its own Event', async () => {
    const r = recorder();
    r.record(rollout('demo'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 10');
    r.record(rollout('demo'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 20');
    r.record(rollout('other'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 10');
    await r.flush();
    expect(events().map((e) => `${e.involvedObject.name}: ${e.message} x${e.count}`).sort()).to.deep.equal([
      'demo: canary weight 10 x1',
      'demo: canary weight 20 x1',
      'other: canary weight 10 x1',
    ]);
  });

  it('Given an object over its burst, Then further events about it are dropped while other objects still get theirs', async () => {
    const r = recorder({ burst: 3, refillMs: 3_600_000 });
    for (let i = 0; i < 10; i += 1) r.record(rollout('noisy'), EventType.Warning, 'PinnedRouteViolation', `violation ${i}`);
    r.record(rollout('quiet'), EventType.Warning, 'PinnedRouteViolation', 'violation 0');
    await r.flush();
    const byObject = (name: string) => events().filter((e) => e.involvedObject.name === name).map((e) => e.message).sort();
    expect(byObject('noisy')).to.deep.equal(['violation 0', 'violation 1', 'violation 2']);
    expect(byObject('quiet')).to.deep.equal(['violation 0']);
    expect(outcomes.filter((o) => o === EventOutcome.RateLimited)).to.have.length(7);
  });

  it("Given the object's tokens run out, When the same event recurs, Then the count kept meanwhile lands with the next write allowed", async () => {
    let now = 1_000_000;
    const r = recorder({ burst: 1, refillMs: 60_000, now: () => now });
    r.record(rollout('demo'), EventType.Normal, 'Relabeled', 'pods relabeled');
    await r.flush();
    now += 1000;
    r.record(rollout('demo'), EventType.Normal, 'Relabeled', 'pods relabeled');
    await r.flush();
    expect(events().map((e) => e.count)).to.deep.equal([1]);
    now += 60_000;
    r.record(rollout('demo'), EventType.Normal, 'Relabeled', 'pods relabeled');
    await r.flush();
    expect(events().map((e) => e.count)).to.deep.equal([3]);
  });

  it('Given the aggregation window has passed, Then the same event starts a new Event object', async () => {
    let now = 1_000_000;
    const r = recorder({ aggregateWindowMs: 60_000, now: () => now });
    r.record(rollout('demo'), EventType.Normal, 'ManagedRoutesRemoved', 'managed routes removed');
    await r.flush();
    now += 61_000;
    r.record(rollout('demo'), EventType.Normal, 'ManagedRoutesRemoved', 'managed routes removed');
    await r.flush();
    expect(events().map((e) => e.count)).to.deep.equal([1, 1]);
  });

  it('Given the Event was deleted (expired), When it recurs, Then a new Event is created', async () => {
    const r = recorder();
    r.record(rollout('demo'), EventType.Normal, 'MirrorRouteSet', 'mirror route set');
    await r.flush();
    const first = events()[0].metadata.name;
    api.delete('v1', 'Event', NS, first);
    r.record(rollout('demo'), EventType.Normal, 'MirrorRouteSet', 'mirror route set');
    await r.flush();
    // As client-go does, the new Event carries every occurrence the recorder has counted.
    expect(events().map((e) => [e.reason, e.count])).to.deep.equal([['MirrorRouteSet', 2]]);
    expect(events()[0].metadata.name).to.not.equal(first);
  });

  it('Given more important work in progress (yieldTo), Then events are written only after it, coalesced meanwhile', async () => {
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const r = recorder({ yieldTo: () => busy });
    for (let i = 0; i < 5; i += 1) r.record(rollout('demo'), EventType.Normal, 'Relabeled', 'pods relabeled');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventRequests()).to.deep.equal([]);
    release();
    await r.flush();
    expect(events().map((e) => e.count)).to.deep.equal([5]);
    expect(eventRequests().map((e) => e.method)).to.deep.equal(['POST']);
  });

  it('Given the API server refuses events, Then recording neither throws nor stops later events', async () => {
    api.faults.inject({ verb: 'create', resource: 'events', status: 403, times: 1 });
    const errors: unknown[] = [];
    const r = recorder({ onOutcome: (outcome, _event, error) => (outcome === EventOutcome.Failed ? errors.push(error) : undefined) });
    r.record(rollout('demo'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 10');
    await r.flush();
    r.record(rollout('demo'), EventType.Normal, 'TrafficWeightUpdated', 'canary weight 20');
    await r.flush();
    expect(errors).to.have.length(1);
    expect(events().map((e) => e.message)).to.deep.equal(['canary weight 20']);
  });
});
