import { setFlagsFromString } from 'node:v8';

// The plugin's V8 flags (heap sizing, when to optimize), for a small process that lives as
// long as the controller (bench/plugin-memory.ts): the young generation keeps the size it has
// at the handshake instead of growing towards 16 MiB semi-spaces over thousands of calls that
// keep nothing, and the old generation's limit grows by 30 % per collection instead of up to
// 4× (10 % collected 1 MiB Rollouts too often). TurboFan takes a function only once it has
// run 16× as long as V8's default asks: what is hot for a moment around the first calls, or
// now and then on a reconcile, stays in the baseline tiers, so neither the compiler's memory
// nor the pages of its own code are paid for it (idle RSS −3.4 MB, bench/README.md); the
// decoder's loops on a large Rollout still get there within its first calls. Set at run time,
// once node has loaded the modules it starts with: any V8 flag on the command line makes
// node 20 reject the code cache of its own modules (a start ~20 ms slower). The same holds for
// modules loaded while the flags are set, so the plugin restores V8's defaults while it loads
// its router (http, tls: ~8 ms more otherwise).

/** V8's `--interrupt-budget`: how much a function runs before TurboFan considers it. */
const V8_INTERRUPT_BUDGET = 67584;

/** Each flag with the value the plugin runs with and V8's default. */
const V8_FLAGS = [
  ['--semi-space-growth-factor', '1', '2'],
  ['--heap-growing-percent', '30', '0'],
  ['--interrupt-budget', String(16 * V8_INTERRUPT_BUDGET), String(V8_INTERRUPT_BUDGET)],
] as const;

export function settleHeap(): void {
  for (const [flag, value] of V8_FLAGS) setFlagsFromString(`${flag}=${value}`);
}

/**
 * V8's defaults again. A code cache carries the hash of the flags in force when it was made
 * and is refused under others: one recorded after settleHeap would be refused by the next
 * start, which has not settled yet, and node's own would be refused for what loads meanwhile.
 */
export function unsettleHeap(): void {
  for (const [flag, , defaultValue] of V8_FLAGS) setFlagsFromString(`${flag}=${defaultValue}`);
}
