// Long-lived canaries: pods attached to a Rollout by a label keep following its stable hash.
export { startCanaryController, CANARY_DEFAULTS } from './controller.js';
export type { CanaryController, CanaryControllerOptions, CanaryStats, StopOptions } from './controller.js';
export { DEFAULT_LEADER_ELECTION_TIMING, validateLeaderElection } from './leader.js';
export type { LeaderElectionConfig } from './leader.js';
export {
  DEFAULT_ATTACH_LABEL,
  LEGACY_ATTACH_LABEL,
  MANAGED_BY_ROLLOUTS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  isValidLabelKey,
} from './rule.js';
