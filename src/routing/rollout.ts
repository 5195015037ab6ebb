// The parts of an Argo Rollouts `Rollout` (argoproj.io/v1alpha1) the companion reads, in
// their Kubernetes JSON form. Everything else on the object is carried but ignored.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HeaderRoutingMatch {
  headerName: string;
  headerValue?: StringMatch;
}

/** A canary step's `setHeaderRoute`; an empty `match` removes the managed route. */
export interface SetHeaderRoute {
  name?: string;
  match?: HeaderRoutingMatch[];
}

export interface RouteMatch {
  method?: StringMatch;
  path?: StringMatch;
  headers?: Record<string, StringMatch>;
}

/** A canary step's `setMirrorRoute`; an empty `match` removes the managed route. */
export interface SetMirrorRoute {
  name: string;
  match?: RouteMatch[];
  percentage?: number;
}

/** An extra weighted backend (experiments): `additionalDestinations` of SetWeight and UpdateHash. */
export interface WeightDestination {
  weight: number;
  serviceName?: string;
  podTemplateHash?: string;
}

export interface TrafficRouting {
  managedRoutes?: { name: string }[];
  /** Plugin name → that plugin's configuration (already parsed JSON). */
  plugins?: Record<string, unknown>;
  maxTrafficWeight?: number;
}

/** `canary.pingPong`: two long-lived Services that take turns being stable (Argo Rollouts ≥ 1.10 for plugin routers). */
export interface PingPongSpec {
  pingService?: string;
  pongService?: string;
}

export interface CanaryStrategy {
  canaryService?: string;
  stableService?: string;
  pingPong?: PingPongSpec;
  trafficRouting?: TrafficRouting;
  steps?: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface BlueGreenStrategy {
  activeService?: string;
  previewService?: string;
  [key: string]: unknown;
}

export interface Rollout {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    strategy?: { canary?: CanaryStrategy; blueGreen?: BlueGreenStrategy };
    [key: string]: unknown;
  };
  status?: {
    stableRS?: string;
    currentPodHash?: string;
    currentStepIndex?: number;
    blueGreen?: { activeSelector?: string; previewSelector?: string };
    /** stablePingPong: which ping-pong Service is stable now, "ping" or "pong" (absent before the first promotion). */
    canary?: { stablePingPong?: string; [key: string]: unknown };
    [key: string]: unknown;
  };
}
