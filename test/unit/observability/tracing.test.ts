import { expect } from 'chai';
import { startTracing } from '../../../src/observability/tracing.js';
import { RouteKind, type PrefetchedReads, type RouteStore, type StoredCheck } from '../../../src/routing/route-store.js';

// The traced store must be the store with spans, nothing less: a dropped argument would skip a
// prefetch (one more round trip per SetWeight) or a mirror step's dry-run check.

describe('tracing: the traced route store', () => {
  it('passes prefetch, prefetched reads and the stored check through to the store', async () => {
    const seen: unknown[][] = [];
    const prefetched: PrefetchedReads = new Map();
    const check: StoredCheck = () => {};
    const store = {
      prefetch: (...args: unknown[]) => (seen.push(['prefetch', ...args]), prefetched),
      update: async (...args: unknown[]) => (seen.push(['update', ...args]), []),
    } as unknown as RouteStore;
    // No collector here: the exporter gives up on the buffered span at once.
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '50';
    const tracing = startTracing('rollouts-companion-test', {});
    delete process.env.OTEL_EXPORTER_OTLP_TIMEOUT;
    try {
      const traced = tracing.traceStore(store);
      const refs = [{ kind: RouteKind.HTTPRoute, namespace: 'default', name: 'web' }];
      const plan = () => null;
      expect(traced.prefetch!(refs)).to.equal(prefetched);
      await traced.update(refs, plan, undefined, prefetched, check);
      expect(seen).to.deep.equal([
        ['prefetch', refs],
        ['update', refs, plan, undefined, prefetched, check],
      ]);
    } finally {
      await tracing.shutdown().catch(() => undefined);
    }
  });
});
