import type { Logger } from 'pino';
import { GateStep, type GateObserver } from '../step/gate-step.js';
import { KubeClient, type KubeClientOptions } from './client.js';

// The lockstep gate wired to Kubernetes: what the plugin runs in in-process mode (with the
// controller's own service account, which may read Rollouts) and what `serve` answers
// StepPlugin calls with.

export interface LocalStepOptions extends KubeClientOptions {
  logger: Logger;
  /** Reuse a client (and its rate limit) with the routers. */
  client?: KubeClient;
  gateObserver?: GateObserver;
}

export function createLocalStep(options: LocalStepOptions): GateStep {
  const kube = options.client ?? new KubeClient(options);
  const { logger } = options;
  return new GateStep({
    kube,
    observer: {
      run: (rollout, gate, decision, now) => {
        logger.debug({ rollout, gate, phase: decision.phase, waiting: decision.waiting, requeueAfterMs: decision.requeueAfterMs }, decision.message);
        options.gateObserver?.run?.(rollout, gate, decision, now);
      },
      left: (rollout, gate, how) => {
        logger.debug({ rollout, gate, how }, 'left the gate');
        options.gateObserver?.left?.(rollout, gate, how);
      },
    },
  });
}
