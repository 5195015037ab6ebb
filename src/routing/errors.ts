import { shownName } from './names.js';
import type { RouteRef } from './route-store.js';

// User-facing messages of the routing core. Each names the object (route as
// "Kind namespace/name", rollout as "namespace/name") and the field at fault.

export const routeLabel = (ref: RouteRef): string => `${ref.kind} ${ref.namespace}/${ref.name}`;

const quoted = (names: readonly string[]): string => (names.length ? names.map((n) => `"${n}"`).join(', ') : 'none');

// --- configuration -------------------------------------------------------------------------

export const invalidPluginConfig = (plugin: string, rollout: string, detail: string): string =>
  `invalid plugin config "${plugin}" of rollout ${rollout}: ${detail}`;

export const pluginEntryMissing = (plugin: string, rollout: string, present: readonly string[]): string =>
  `rollout ${rollout} has no entry "${plugin}" under spec.strategy.canary.trafficRouting.plugins (present: ${quoted(present)})`;

export const noCanaryStrategy = (rollout: string): string =>
  `rollout ${rollout} has no spec.strategy.canary; Gateway API traffic routing needs a canary strategy`;

export const rolloutServiceMissing = (rollout: string, field: string): string =>
  `rollout ${rollout}: spec.strategy.canary.${field} must be a non-empty string (traffic routing splits between the stable and canary Services)`;

export const mustBe = (path: string, what: string): string => `${path} must be ${what}`;

const SERVICE_NAME_RULE = "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";

export const serviceNameInvalid = (rollout: string, field: string, name: unknown): string =>
  `rollout ${rollout}: ${field} ${shownName(name)} is not a valid Service name (${SERVICE_NAME_RULE})`;

export const servicesIdentical = (rollout: string, a: string, b: string, name: string): string =>
  `rollout ${rollout}: spec.strategy.canary.${a} and ${b} are both "${name}"; traffic routing needs two different Services (Argo Rollouts rejects this too)`;

export const maxTrafficWeightInvalid = (rollout: string, value: unknown): string =>
  `rollout ${rollout}: spec.strategy.canary.trafficRouting.maxTrafficWeight ${String(value)} must be a positive integer of at most 2147483647 (an int32 in Argo Rollouts' schema)`;

export const ignoredKey = (key: string, why: string): string =>
  `plugin config key "${key}" (from argoproj-labs/gatewayAPI) is accepted but has no effect: ${why}`;

export const ruleNameWithoutRoute = (key: string, routeKey: string): string =>
  `${key} names a rule of the route in ${routeKey}, which is not set`;

export const unknownKey = (path: string, key: string, accepted: readonly string[]): string =>
  `${path ? `${path}: ` : ''}unknown key "${key}"; accepted keys: ${accepted.join(', ')}`;

export const noRouteConfigured = (keys: readonly string[]): string =>
  `no route configured; set at least one of ${keys.join(', ')}`;

export const routeListedTwice = (path: string, kind: string, name: string): string =>
  `${path}: ${kind} "${name}" is listed more than once`;

export const pinnedAndManaged = (path: string, kind: string, name: string): string =>
  `${path}: ${kind} "${name}" is also a managed route; a route is either pinned or managed`;

export const pinnedTwice = (path: string, kind: string, name: string): string =>
  `${path}: ${kind} "${name}" is already pinned`;

// --- weights ---------------------------------------------------------------------------------

/** Each selector as kind, namespace and the selector in kubectl's form. */
export const noRouteSelected = (selectors: readonly { kind: string; namespace: string; selector: string }[]): string =>
  `no route to manage: ${selectors.map((s) => `no ${s.kind} in namespace ${s.namespace} matches the label selector "${s.selector}"`).join(', and ')}; ` +
  'the canary weight can be neither set nor verified';

export const weightOutOfRange = (weight: number, total: number): string =>
  `desired canary weight ${weight} must be an integer between 0 and ${total}`;

export const additionalWeightInvalid = (index: number, weight: unknown, total: number): string =>
  `additionalDestinations[${index}].weight ${String(weight)} must be an integer between 0 and ${total}`;

export const additionalServiceMissing = (index: number): string =>
  `additionalDestinations[${index}].serviceName must be a non-empty string`;

export const additionalServiceInvalid = (index: number, name: unknown): string =>
  `additionalDestinations[${index}].serviceName ${shownName(name)} is not a valid Service name (${SERVICE_NAME_RULE})`;

export const additionalServiceClash = (index: number, name: string): string =>
  `additionalDestinations[${index}].serviceName "${name}" is the stable or canary Service or listed twice`;

export const weightsExceedTotal = (canary: number, additional: number, total: number): string =>
  `canary weight ${canary} plus additional destination weights ${additional} exceed ${total}`;

export const noWeightedRule = (ref: RouteRef, stable: string, canary: string, missing: readonly string[]): string =>
  `${routeLabel(ref)}: no rule references both the stable Service "${stable}" and the canary Service "${canary}" in spec.rules[].backendRefs` +
  (missing.length ? `; missing: ${missing.join(', ')}` : '; they are referenced by different rules');

export const noNamedWeightedRule = (ref: RouteRef, ruleName: string, stable: string, canary: string): string =>
  `${routeLabel(ref)}: no rule named "${ruleName}" (the configured ruleName) references both the stable Service "${stable}" and the canary Service "${canary}"`;

// --- managed (header and mirror) rules -------------------------------------------------------

export const managedRouteUndeclared = (rollout: string, name: string, declared: readonly string[]): string =>
  `managed route "${name}" is not declared in spec.strategy.canary.trafficRouting.managedRoutes of rollout ${rollout} (declared: ${quoted(declared)})`;

export const managedRouteNameMissing = (step: 'setHeaderRoute' | 'setMirrorRoute'): string => `${step}.name must be a non-empty string`;

export const invalidRuleName = (name: string): string =>
  `managed route name "${name}" cannot be used as a Gateway API rule name (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 253 characters)`;

export const regexInvalid = (step: 'setHeaderRoute' | 'setMirrorRoute', name: string, field: string, pattern: string, why: string): string =>
  `${step} "${name}": ${field} ${JSON.stringify(pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern)} is not a valid RE2 regular expression (${why})`;

export const headerNameMissing = (name: string, index: number): string =>
  `setHeaderRoute "${name}": match[${index}].headerName must be a non-empty string`;

export const headerValueMissing = (name: string, index: number): string =>
  `setHeaderRoute "${name}": match[${index}].headerValue must set exactly one of exact, prefix or regex`;

export const mirrorStringMatchInvalid = (name: string, field: string): string =>
  `setMirrorRoute "${name}": ${field} must set exactly one of exact, prefix or regex`;

export const mirrorMethodNotExact = (name: string, index: number, used: string): string =>
  `setMirrorRoute "${name}": match[${index}].method supports only exact (Gateway API matches HTTP methods exactly), got ${used}`;

export const mirrorPercentageInvalid = (name: string, percentage: unknown): string =>
  `setMirrorRoute "${name}": percentage ${String(percentage)} must be an integer between 0 and 100`;

export const mirrorPercentPruned = (ref: RouteRef, name: string, percent: number): string =>
  `setMirrorRoute "${name}": ${routeLabel(ref)} would mirror every request, not ${percent}%: the API server drops ` +
  `requestMirror.percent (the Standard channel's Gateway API CRDs have it from v1.3). Nothing was written; install ` +
  `Gateway API v1.3 or later, or set percentage: 100`;

export const mirrorFieldUnsupported = (name: string, index: number, field: string, kind: string): string =>
  `setMirrorRoute "${name}": match[${index}].${field} cannot be expressed on a ${kind} (only headers can)`;

export const mirrorPathInexpressible = (ref: RouteRef, ruleIndex: number, rulePath: string, mirrorPath: string): string =>
  `${routeLabel(ref)}: rules[${ruleIndex}].matches path ${rulePath} cannot be combined with mirror path ${mirrorPath}`;

export const headerInexpressible = (ref: RouteRef, ruleIndex: number, ruleHeader: string, step: string, stepHeader: string): string =>
  `${routeLabel(ref)}: rules[${ruleIndex}].matches header ${ruleHeader} cannot be combined with ${step} header ${stepHeader} ` +
  '(Gateway API tests one condition per header name)';

export const noCanaryRule = (ref: RouteRef, canary: string, managedRoute: string): string =>
  `${routeLabel(ref)}: no rule references the canary Service "${canary}", so managed route "${managedRoute}" has nothing to copy`;

export const ruleNameTaken = (ref: RouteRef, ruleIndex: number, ruleName: string, managedRoute: string): string =>
  `${routeLabel(ref)}: spec.rules[${ruleIndex}].name "${ruleName}" is used by a rule the companion did not create; cannot add managed route "${managedRoute}"`;

export const badAnnotation = (ref: RouteRef, key: string, expected: string): string =>
  `${routeLabel(ref)}: annotation ${key} must be ${expected}; fix or remove it`;

// --- pinned routes ---------------------------------------------------------------------------

export const pinnedReferencesOther = (
  ref: RouteRef,
  role: 'stable' | 'canary',
  service: string,
  at: string,
  referenced: string,
): string =>
  `pinned route ${routeLabel(ref)} must reference only the ${role} Service "${service}", but ${at} references ${referenced}`;

export const pinnedWithoutBackends = (ref: RouteRef, role: 'stable' | 'canary', service: string): string =>
  `pinned route ${routeLabel(ref)} has no backendRefs; it must reference the ${role} Service "${service}"`;

export const pinnedMissing = (ref: RouteRef, role: 'stable' | 'canary'): string =>
  `pinned route ${routeLabel(ref)} (pinned to ${role}) not found`;

export const refusingWeight = (weight: number, violations: readonly string[]): string =>
  `refusing to set canary weight ${weight}: ${violations.join('; ')}`;

// --- verification (reasons for NotVerified) ---------------------------------------------------

export const verifyNoBackend = (ref: RouteRef, ruleIndex: number, role: string, service: string): string =>
  `${routeLabel(ref)}: rules[${ruleIndex}] has no backendRef to the ${role} Service "${service}"`;

export const verifyWrongWeight = (ref: RouteRef, ruleIndex: number, role: string, service: string, actual: number, want: number): string =>
  `${routeLabel(ref)}: rules[${ruleIndex}] gives the ${role} Service "${service}" weight ${actual}, want ${want}`;

export const verifyNoParents = (ref: RouteRef): string => `${routeLabel(ref)}: no parent Gateway has reported status yet`;

export const verifyNotAccepted = (ref: RouteRef, parent: string, status: string | undefined, why: string): string =>
  status === undefined
    ? `${routeLabel(ref)}: parent ${parent} has no Accepted condition`
    : `${routeLabel(ref)}: parent ${parent} has Accepted=${status}${why ? ` (${why})` : ''}`;

export const verifyRefsUnresolved = (ref: RouteRef, parent: string, status: string | undefined, why: string): string =>
  `${routeLabel(ref)}: parent ${parent} has ResolvedRefs=${String(status)}${why ? ` (${why})` : ''}; requests sent to an unresolved backend get HTTP 500`;

export const verifyStaleGeneration = (ref: RouteRef, parent: string, observed: number | undefined, generation: number | undefined): string =>
  `${routeLabel(ref)}: parent ${parent} accepted generation ${String(observed)}, route is at generation ${String(generation)}`;


// --- services --------------------------------------------------------------------------------

export const serviceNotFound = (role: 'stable' | 'canary', namespace: string, name: string): string =>
  `${role} Service ${namespace}/${name} not found`;

// --- managed-rule identity and Gateway API limits (helper "gateway") ----------------------------

export const stepTooManyMatches = (step: string, field: string, count: number, limit: number): string =>
  `${step}: ${field} has ${count} entries; Gateway API allows at most ${limit} matches per rule`;

export const routeOverLimit = (ref: RouteRef, field: string, count: number, limit: number): string =>
  `${routeLabel(ref)}: ${field} would have ${count} entries; Gateway API allows at most ${limit}`;

export const ruleOfOtherRollout = (ref: RouteRef, ruleIndex: number, ruleName: string, owner: string, managedRoute: string): string =>
  `${routeLabel(ref)}: spec.rules[${ruleIndex}].name "${ruleName}" belongs to managed route "${owner}" of another Rollout sharing this route ` +
  `(it serves neither of this Rollout's Services); cannot add managed route "${managedRoute}": give it a name of its own`;

export const ruleOwnedElsewhere = (ref: RouteRef, ruleIndex: number, ruleName: string, owner: string, managedRoute: string): string =>
  `${routeLabel(ref)}: spec.rules[${ruleIndex}].name "${ruleName}" belongs to managed route "${owner}"; cannot add managed route "${managedRoute}"`;

export const verifiedWithoutParentStatus = (ref: RouteRef): string =>
  `${routeLabel(ref)}: no parent Gateway reports status; verifying by weights alone (set requireAcceptedStatus: true to wait for Accepted)`;

export const notVerified = (reason: string): string => `VerifyWeight not verified: ${reason}`;

export const gwConfigMapUnreadable = (namespace: string, name: string, reason: string): string =>
  `cannot read ConfigMap ${namespace}/${name} (argoproj-labs/gatewayAPI ≤ 0.12 state; header rules recorded only there are not taken over): ${reason}`;
