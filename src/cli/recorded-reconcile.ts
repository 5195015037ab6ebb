import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parseKnownTypes, type KnownGobTypes, type KnownType } from '../plugin/gob/known-types.js';

// What the plugin makes of the first reconcile recorded into its bundle (src/cli/recordings.ts
// says where it is): the controller's gob type definitions, and the calls themselves, served
// once to warm up. Without them the plugin works the same, its first SetWeight only later.

export const KNOWN_TYPES_UNREADABLE = "the bundle's recorded gob type definitions are unreadable; parsing every definition the controller sends";

export const WARM_UP_FAILED = "could not serve the bundle's recorded first reconcile to warm up; the first call is slower";

/**
 * Serves the bundle's recorded first reconcile once (src/plugin/warm-up.ts), so that the
 * controller's own is not the first to run that code; if it cannot, the first call is slower.
 */
export async function warmUp(file: string, knownTypes: KnownGobTypes | undefined, logger: Logger): Promise<void> {
  try {
    const { warmUpCalls } = await import('../plugin/warm-up.js');
    await warmUpCalls(readFileSync(file), knownTypes);
  } catch (err) {
    logger.warn({ err, file }, WARM_UP_FAILED);
  }
}

/** The bundle's recorded type definitions, read when the router is built; without them (unreadable) every definition is parsed. */
export class KnownTypesFile implements KnownGobTypes {
  #known: Map<string, KnownType> | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  load(): void {
    if (!this.#known) {
      try {
        this.#known = parseKnownTypes(readFileSync(this.file, 'utf8'));
        this.logger.debug({ knownGobTypes: this.#known.size }, 'recorded gob type definitions loaded');
      } catch (err) {
        this.logger.warn({ err, file: this.file }, KNOWN_TYPES_UNREADABLE);
        this.#known = new Map();
      }
    }
  }

  /** Only once loaded: the controller's first call (no Rollout) is answered without waiting for the file. */
  get(key: string): KnownType | undefined {
    return this.#known?.get(key);
  }
}
