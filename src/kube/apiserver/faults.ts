import type { ResourceDef } from './resources.js';
import { failure, REASON_BY_CODE, type KubeStatus } from './status.js';
import type { KubeObject } from './types.js';

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'watch';

/** What the handler knows about a resource request when it consults the faults. */
export interface RequestInfo {
  verb: Verb;
  def: ResourceDef;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface FaultRule {
  /** Only these verbs (default: any). */
  verb?: Verb | readonly Verb[];
  /** Plural, e.g. 'httproutes' (the resource and its subresources) or 'httproutes/status' (only that). */
  resource?: string;
  name?: string;
  namespace?: string;
  /** Answer with this code and a Status object; omit it to only run `beforeHook` and then serve normally. */
  status?: number;
  /** Status message; defaults to a generic one for the code. */
  message?: string;
  /** How many matching requests the rule affects; default 1, `Infinity` until `clear()`. */
  times?: number;
  /** Runs when the rule fires, before the request is answered or served. */
  beforeHook?: (request: RequestInfo) => void;
}

/** Server operations the faults drive; provided by the server. */
export interface FaultTarget {
  dropWatches(abrupt: boolean): void;
  compact(): void;
  touch(def: ResourceDef, namespace: string | undefined, name: string, mutate?: (obj: KubeObject) => void): void;
  stopListening(): Promise<void>;
  startListening(): Promise<void>;
}

export type DownMode = 'unavailable' | 'refuse';

/**
 * Fault injection for tests. Rules are checked in the order they were added; the first that
 * matches fires (and counts down its `times`).
 */
export class Faults {
  private rules: { rule: FaultRule; left: number }[] = [];
  private downMode: DownMode | undefined;

  constructor(private readonly target: FaultTarget) {}

  /** Add a rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const entry = { rule, left: rule.times ?? 1 };
    this.rules.push(entry);
    return () => {
      this.rules = this.rules.filter((e) => e !== entry);
    };
  }

  /**
   * Simulates a concurrent writer: just before the next update or patch of `resource`/`name` is
   * served, the stored object is written again (after `mutate`, if given) with a new
   * resourceVersion, so a PUT carrying the version the client read gets a real 409 Conflict.
   */
  conflictOnNextUpdate(resource: string, name: string, mutate?: (obj: KubeObject) => void): void {
    this.inject({
      verb: ['update', 'patch'],
      resource,
      name,
      beforeHook: (req) => this.target.touch(req.def, req.namespace, name, mutate),
    });
  }

  /** End every open watch stream: cleanly (as a server timeout does) or, if `abrupt`, by cutting the connection. */
  dropWatches(opts: { abrupt?: boolean } = {}): void {
    this.target.dropWatches(opts.abrupt ?? false);
  }

  /** Forget the event history: a watch from an older resourceVersion gets an ERROR event, code 410 Expired. */
  compact(): void {
    this.target.compact();
  }

  /**
   * Take the server down: 'unavailable' answers every request with 503, 'refuse' stops listening
   * so connections are refused. Open watches are dropped either way.
   */
  async down(mode: DownMode = 'unavailable'): Promise<void> {
    if (this.downMode) return;
    this.downMode = mode;
    this.target.dropWatches(false);
    if (mode === 'refuse') await this.target.stopListening();
  }

  /** Bring the server back (on the same port). */
  async up(): Promise<void> {
    const mode = this.downMode;
    this.downMode = undefined;
    if (mode === 'refuse') await this.target.startListening();
  }

  /** Remove all rules and bring the server up. */
  async clear(): Promise<void> {
    this.rules = [];
    await this.up();
  }

  /** The 503 to answer while down ('unavailable' mode). */
  unavailable(): KubeStatus | undefined {
    return this.downMode === 'unavailable' ? failure(503, 'the server is currently unable to handle the request', 'ServiceUnavailable') : undefined;
  }

  /** Fires the first matching rule; returns the Status to answer with, if the rule has one. */
  check(req: RequestInfo): KubeStatus | undefined {
    const entry = this.rules.find((e) => e.left > 0 && matches(e.rule, req));
    if (!entry) return undefined;
    entry.left--;
    if (entry.left <= 0) this.rules = this.rules.filter((e) => e !== entry);
    entry.rule.beforeHook?.(req);
    const code = entry.rule.status;
    if (code === undefined) return undefined;
    return failure(code, entry.rule.message ?? `injected fault: ${REASON_BY_CODE[code] ?? code}`, REASON_BY_CODE[code] ?? 'Unknown');
  }
}

function matches(rule: FaultRule, req: RequestInfo): boolean {
  if (rule.verb !== undefined && !(typeof rule.verb === 'string' ? [rule.verb] : rule.verb).includes(req.verb)) return false;
  if (rule.resource !== undefined) {
    const [plural, sub] = rule.resource.split('/');
    if (plural !== req.def.plural || (sub !== undefined && sub !== req.subresource)) return false;
  }
  if (rule.name !== undefined && rule.name !== req.name) return false;
  if (rule.namespace !== undefined && rule.namespace !== req.namespace) return false;
  return true;
}
