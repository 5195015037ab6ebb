import { expect } from 'chai';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchPodLabels, type PodLabels, type PodLabelsWatch } from '../../../src/podinfo/index.js';
import { formatLabels, kubeletWrite, waitFor } from './kubelet.js';

const CANARY = { app: 'queue-worker', role: 'canary', rabbitQueue: 'myCanaryQueue' };
const STABLE = { app: 'queue-worker', role: 'stable', rabbitQueue: 'myProductionQueue' };

// Long enough that only the directory watch can explain a prompt update.
const NO_POLL = 3_600_000;

describe('watchPodLabels on a kubelet-managed downward-API volume', function () {
  this.timeout(30_000);
  let root: string;
  let dir: string;
  let watch: PodLabelsWatch | undefined;
  let changes: [PodLabels, PodLabels][];
  let errors: Error[];
  const record = (labels: PodLabels, previous: PodLabels) => void changes.push([labels, previous]);
  const onError = (e: Error) => void errors.push(e);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'podinfo-'));
    dir = join(root, 'podinfo');
    await mkdir(dir);
    changes = [];
    errors = [];
  });
  afterEach(async () => {
    watch?.close();
    watch = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('Given a canary pod, When Argo promotes it and the kubelet swaps ..data, Then the stable labels are seen', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    watch = watchPodLabels(join(dir, 'labels'), record, { pollMs: NO_POLL, onError });
    expect(watch.current()).to.deep.equal(CANARY);

    await kubeletWrite(dir, { labels: formatLabels(STABLE) });

    await waitFor('the promotion', () => changes.length > 0);
    expect(changes).to.deep.equal([[STABLE, CANARY]]);
    expect(watch.current()).to.deep.equal(STABLE);
    expect(errors).to.deep.equal([]);
  });

  it('Given several swaps in a row, Then the last labels win', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    watch = watchPodLabels(join(dir, 'labels'), record, { pollMs: NO_POLL, onError });

    for (const role of ['a', 'b', 'c', 'stable']) {
      await kubeletWrite(dir, { labels: formatLabels({ ...CANARY, role }) });
    }

    await waitFor('the last swap', () => watch!.current().role === 'stable');
    expect(changes.at(-1)![0]).to.deep.equal({ ...CANARY, role: 'stable' });
  });

  it('When the kubelet rewrites identical labels, Then nothing fires', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    watch = watchPodLabels(join(dir, 'labels'), record, { pollMs: 20, onError });

    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    // A real change afterwards tells us every earlier event has been handled.
    await kubeletWrite(dir, { labels: formatLabels(STABLE) });

    await waitFor('the real change', () => changes.length > 0);
    expect(changes).to.deep.equal([[STABLE, CANARY]]);
  });

  it('Given the volume is not there yet, Then it reports each error once and picks the labels up when they appear', async () => {
    const late = join(root, 'late');
    watch = watchPodLabels(join(late, 'labels'), record, { pollMs: 20, onError });
    expect(watch.current()).to.deep.equal({});
    await new Promise((resolve) => setTimeout(resolve, 300)); // several polls, each failing twice
    expect(errors.map((e) => e.message)).to.deep.equal([
      `could not read pod labels from ${join(late, 'labels')}`,
      `could not watch ${late} for label changes; polling only`,
    ]);
    expect((errors[0]!.cause as NodeJS.ErrnoException).code).to.equal('ENOENT');

    await mkdir(late);
    await kubeletWrite(late, { labels: formatLabels(CANARY) });

    await waitFor('the labels', () => changes.length > 0);
    expect(changes).to.deep.equal([[CANARY, {}]]);
    expect(errors).to.have.length(2);
  });

  it('When the file turns malformed, Then it reports the line and keeps the last good labels', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    watch = watchPodLabels(join(dir, 'labels'), record, { pollMs: NO_POLL, onError });

    await kubeletWrite(dir, { labels: 'role="stable"\nrabbitQueue=myProductionQueue' });
    await waitFor('a parse error', () => errors.length > 0);
    expect(errors[0]!.message).to.equal(`could not parse pod labels in ${join(dir, 'labels')}`);
    expect((errors[0]!.cause as Error).message).to.match(/^downward-API labels, line 2: /);
    expect(watch.current()).to.deep.equal(CANARY);

    await kubeletWrite(dir, { labels: formatLabels(STABLE) });
    await waitFor('the fixed labels', () => changes.length > 0);
    expect(changes).to.deep.equal([[STABLE, CANARY]]);
  });

  it('When onChange throws, Then the error goes to onError and later changes still arrive', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    let calls = 0;
    watch = watchPodLabels(
      join(dir, 'labels'),
      () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
      },
      { pollMs: NO_POLL, onError },
    );

    await kubeletWrite(dir, { labels: formatLabels(STABLE) });
    await waitFor('the failing callback', () => errors.length > 0);
    expect(errors[0]!.message).to.equal(`the onChange callback for ${join(dir, 'labels')} threw`);
    expect((errors[0]!.cause as Error).message).to.equal('boom');
    expect(watch.current()).to.deep.equal(STABLE);

    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    await waitFor('the next change', () => calls === 2);
  });

  it('After close (or abort), Then nothing fires and no timer or watch keeps the process alive', async () => {
    const handles = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'FSEventWrap').length;
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    const before = handles(); // mocha's own test timer

    const closed = watchPodLabels(join(dir, 'labels'), record, { pollMs: 20, onError });
    const controller = new AbortController();
    const aborted = watchPodLabels(join(dir, 'labels'), record, { pollMs: 20, onError, signal: controller.signal });
    expect(handles()).to.be.greaterThan(before);
    closed.close();
    controller.abort();

    await kubeletWrite(dir, { labels: formatLabels(STABLE) });
    await waitFor('handles to be released', () => handles() === before);
    expect(changes).to.deep.equal([]);
    expect(aborted.current()).to.deep.equal(CANARY);
  });

  it('Given an already-aborted signal, Then it reads the labels once and watches nothing', async () => {
    await kubeletWrite(dir, { labels: formatLabels(CANARY) });
    const w = watchPodLabels(join(dir, 'labels'), record, { signal: AbortSignal.abort() });
    expect(w.current()).to.deep.equal(CANARY);
    w.close();
  });

  it('rejects a pollMs that would spin or never fire', () => {
    for (const pollMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => watchPodLabels(join(dir, 'labels'), record, { pollMs })).to.throw(
        RangeError,
        `pollMs must be between 1 and 2147483647 milliseconds, got ${pollMs}`,
      );
    }
  });
});
