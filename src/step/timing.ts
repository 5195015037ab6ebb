// When members leave the gate. Measured against Argo Rollouts' step-plugin code
// (rollout/steps/plugin/plugin.go and rollout/stepplugin.go, v1.8–v1.10):
//
// - A Running answer's RequeueAfter becomes the step's `backoff` only when it is over 10 s;
//   otherwise the controller waits 30 s.
// - The controller re-queues the Rollout for `updatedAt + backoff + 5 s`.
// - While `updatedAt + backoff` is in the future, Run is not called at all, whatever wakes
//   the Rollout up: an early reconcile (a watch event, an annotation we could patch on a
//   member) does not re-run a Running step. So nothing but the RequeueAfter decides when a
//   waiting member looks again, and the gate needs no write access to Rollouts.
//
// A waiting member therefore looks again 15 s or more after its last look. Left alone, the
// members' looks fall at unrelated times and the last one to see everybody here leaves up to
// a requeue (~15 s) after the first. Instead every waiting member asks to be re-run on a
// shared wall-clock grid (multiples of GRID_MS), and once everybody has arrived they all
// leave at the same grid point: the first one at least LEAD_MS after the last arrival, which
// every member can still reach with a legal RequeueAfter. Runs land within the controller's
// 5 s re-queue margin of the point (usually ≤ 1 s before it, as the stored updatedAt is
// truncated to seconds), so the spread is about a second (test/unit/step/spread.test.ts).

/** The controller ignores a RequeueAfter of 10 s or less (and waits 30 s instead). */
export const CONTROLLER_MIN_REQUEUE_MS = 10_000;
/** What the controller adds to the backoff before re-queueing. */
export const CONTROLLER_REQUEUE_DELAY_MS = 5_000;
/** The shortest RequeueAfter the gate asks for: safely over the controller's minimum. */
export const MIN_REQUEUE_MS = 11_000;
/** From one look to the earliest grid point the next look can target. */
export const LEAD_MS = MIN_REQUEUE_MS + CONTROLLER_REQUEUE_DELAY_MS;
/** The grid the waiting members meet on: more than LEAD_MS, so consecutive points are reachable. */
export const GRID_MS = 20_000;
/** A look this close before the release point is the one at it (the controller may run a Run early by up to its margin plus the truncated second). */
export const RELEASE_WINDOW_MS = CONTROLLER_REQUEUE_DELAY_MS + 2_000;

/** The first grid point at or after t. */
export function gridPointAtOrAfter(t: number): number {
  return Math.ceil(t / GRID_MS) * GRID_MS;
}

/** The RequeueAfter that makes the controller look again at `target` (or as soon as it allows). */
export function requeueFor(target: number, now: number): number {
  return Math.max(target - now - CONTROLLER_REQUEUE_DELAY_MS, MIN_REQUEUE_MS);
}
