export { createMetrics, RelabelResult, WatchedResource } from './metrics.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { startHealthServer } from './health.js';
export type { HealthServer, HealthServerOptions } from './health.js';
