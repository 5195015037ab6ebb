import type { Context } from 'mocha';

// Some suites need tools a developer machine may lack (Go, kubectl, root for chroot). There
// they are skipped with the reason; under CI (.ci/run installs everything) a missing tool
// fails the run instead, so CI never silently tests less.

export function requireTool(ctx: Context, available: boolean, reason: string): void {
  if (available) return;
  if (process.env.CI) throw new Error(`${reason} (CI must provide it: see .ci/run)`);
  ctx.skip();
}
