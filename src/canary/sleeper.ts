// A sleep that stop() can cut short, so a loop waiting out a back-off or a retry period
// ends at once instead of holding the process open.

export class Sleeper {
  private wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Ends the current sleep, if any. */
  interrupt(): void {
    this.wake?.();
  }
}
