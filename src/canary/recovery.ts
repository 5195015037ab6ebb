import { Sleeper } from './sleeper.js';

// After an API outage every back-off has grown (informers up to 30 s, relabels up to a minute).
// Rather than shorten them for all errors, one cheap probe runs while the API server looks
// unreachable, and the moment it answers after having failed everything waiting is retried:
// relabels resume within about a probe interval of recovery. A probe answered at once says the
// server was there all along and refused that one request (403, 429 while it sheds load, 500
// from a failing webhook): the back-offs then run their course, so such a server is not hammered.

export interface RecoveryProbeOptions {
  /** One cheap request; resolves when the API server answers. */
  probe(): Promise<unknown>;
  /** Between probes while unreachable. */
  intervalMs: number;
  /** The API server answers again after a probe failed: retry whatever is waiting. */
  onRecovered(): void;
}

export class RecoveryProbe {
  private running = false;
  private stopped = false;
  private lastRecovery = 0;
  private readonly sleeper = new Sleeper();

  constructor(private readonly options: RecoveryProbeOptions) {}

  /** Something failed as if the API server were unreachable: probe until it answers. */
  trigger(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.interrupt();
  }

  private async loop(): Promise<void> {
    try {
      // A server that flaps (down, up, the real requests failing again) would otherwise be
      // retried at the probe's pace: at most one recovery per second.
      const wait = Math.max(this.options.intervalMs, this.lastRecovery + 1000 - Date.now());
      await this.sleeper.sleep(wait);
      let failed = false;
      while (!this.stopped) {
        try {
          await this.options.probe();
        } catch {
          failed = true;
          await this.sleeper.sleep(this.options.intervalMs);
          continue;
        }
        if (failed) {
          this.lastRecovery = Date.now();
          this.options.onRecovered();
        }
        return;
      }
    } finally {
      this.running = false;
    }
  }
}

/** Errors that say the API server could not be reached or could not answer (worth probing for). */
export function looksUnreachable(error: unknown): boolean {
  const e = error as { code?: unknown; statusCode?: unknown } | undefined;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  return status === undefined || status === 0 || status === 429 || status >= 500;
}
