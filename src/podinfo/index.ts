// Canary-aware apps: the pod's labels (Argo Rollouts ephemeral metadata) from a downward-API volume.
export { LabelsSyntaxError, parseDownwardApiLabels, sameLabels } from './labels.js';
export type { PodLabels } from './labels.js';
export { DEFAULT_POD_LABELS_PATH, DEFAULT_POLL_MS, watchPodLabels } from './watch.js';
export type { PodLabelsWatch, WatchPodLabelsOptions } from './watch.js';
