import type { ServerResponse } from 'node:http';

import { apiVersionOf, type ResourceDef } from './resources.js';
import type { Matcher } from './selectors.js';
import { StatusError, badRequest } from './status.js';
import { asVersion, type Store, type StoreEvent } from './store.js';
import { deepClone, type KubeObject } from './types.js';

export interface WatchRequest {
  def: ResourceDef;
  /** The version the client asked for; objects are re-labelled with it. */
  version: string;
  /** Only this namespace; all namespaces when undefined. */
  namespace?: string;
  matches: Matcher;
  /** '' / undefined / '0': start with ADDED for every current object; otherwise replay history after it. */
  resourceVersion?: string;
  bookmarks: boolean;
  timeoutSeconds?: number;
}

type WireEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

interface OpenWatch {
  res: ServerResponse;
  end(abrupt: boolean): void;
}

/**
 * Serves `?watch=true` as newline-delimited JSON events over a chunked response, the way the
 * real API server's watch cache does, including the selector rule that a modification which
 * makes an object stop (start) matching is sent as DELETED (ADDED).
 */
export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: Store,
    private readonly bookmarkIntervalMs: number,
  ) {}

  serve(res: ServerResponse, w: WatchRequest): void {
    const startRv = w.resourceVersion ?? '';
    if (startRv !== '' && !/^\d+$/.test(startRv)) throw badRequest(`invalid resource version: ${startRv}`);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();

    const send = (e: WireEvent) => {
      if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(e) + '\n');
    };
    const visible = (o: KubeObject) => (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.matches(o);
    const out = (o: KubeObject) => asVersion(o, w.def, w.version);
    const forward = (e: StoreEvent) => {
      if (e.def !== w.def) return;
      const now = visible(e.object);
      const before = e.prevObject !== undefined && visible(e.prevObject);
      if (e.type === 'MODIFIED') {
        if (now && before) send({ type: 'MODIFIED', object: out(e.object) });
        else if (now) send({ type: 'ADDED', object: out(e.object) });
        else if (before) {
          // As the watch cache does: the previous state, stamped with this event's version.
          const gone = deepClone(e.prevObject!);
          gone.metadata.resourceVersion = String(e.rv);
          send({ type: 'DELETED', object: out(gone) });
        }
      } else if (now) {
        send({ type: e.type, object: out(e.object) });
      }
    };

    let unsubscribe = () => {};
    const timers: NodeJS.Timeout[] = [];
    const watch: OpenWatch = {
      res,
      end: (abrupt) => {
        if (!this.open.delete(watch)) return;
        unsubscribe();
        timers.forEach(clearTimeout);
        if (abrupt) res.destroy();
        else res.end();
      },
    };
    this.open.add(watch);
    res.on('close', () => watch.end(false));

    if (startRv === '' || startRv === '0') {
      for (const o of this.store.list(w.def, w.namespace)) if (visible(o)) send({ type: 'ADDED', object: out(o) });
    } else {
      let replay: StoreEvent[];
      try {
        replay = this.store.eventsSince(Number(startRv));
      } catch (err) {
        // Once the watch is accepted, the real server reports errors as an ERROR event, then closes.
        if (!(err instanceof StatusError)) throw err;
        send({ type: 'ERROR', object: err.status });
        watch.end(false);
        return;
      }
      replay.forEach(forward);
    }
    unsubscribe = this.store.subscribe(forward);

    if (w.bookmarks) {
      const kind = w.def.kind;
      const apiVersion = apiVersionOf(w.def.group, w.version);
      timers.push(
        setInterval(() => send({ type: 'BOOKMARK', object: { kind, apiVersion, metadata: { resourceVersion: this.store.resourceVersion } } }), this.bookmarkIntervalMs),
      );
    }
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
      timers.push(setTimeout(() => watch.end(false), w.timeoutSeconds * 1000));
    }
  }

  /** End every open watch: cleanly (like a server-side timeout) or by cutting the connection. */
  endAll(abrupt = false): void {
    for (const w of [...this.open]) w.end(abrupt);
  }
}
