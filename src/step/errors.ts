// User-facing messages of the lockstep gate. Each names the gate, the Rollout and the config
// key at fault, so the message in `kubectl argo rollouts get` says what to fix.

export const KNOWN_CONFIG_KEYS = ['gate', 'members', 'timeout', 'abortWithMembers', 'align'] as const;

export const gateErrors = {
  noConfig: (self: string) =>
    `${self}: the gate step has no config: expected {gate: <name>, members: [<rollout>, ...], timeout: 15m}`,
  noGateName: (self: string) => `${self}: config.gate is missing or empty: name the gate (e.g. gate: release-42)`,
  unknownKey: (self: string, key: string) =>
    `${self}: config has an unknown key "${key}" (known: ${KNOWN_CONFIG_KEYS.join(', ')})`,
  membersNotList: (self: string) => `${self}: config.members must be a list of Rollout names ("name" or "namespace/name")`,
  badMember: (self: string, member: unknown) =>
    `${self}: config.members: ${JSON.stringify(member)} is not a Rollout name ("name" or "namespace/name", lower-case DNS names)`,
  duplicateMember: (self: string, member: string) => `${self}: config.members lists ${member} twice`,
  noOtherMember: (self: string) => `${self}: config.members names no Rollout besides ${self} itself: a gate needs at least two members`,
  badTimeout: (self: string, value: unknown) =>
    `${self}: config.timeout ${JSON.stringify(value)} is not a positive duration (e.g. 90s, 15m, 1h30m)`,
  notBoolean: (self: string, key: string, value: unknown) => `${self}: config.${key} must be true or false, got ${JSON.stringify(value)}`,
  memberMissing: (gate: string, member: string) =>
    `gate ${gate}: member Rollout ${member} does not exist (check config.members; "namespace/name" for another namespace)`,
  memberWithoutGate: (gate: string, member: string, plugin: string) =>
    `gate ${gate}: member ${member} has no step of this gate (a step with plugin.name ${plugin} and config.gate ${gate})`,
  memberWithTwoGates: (gate: string, member: string) => `gate ${gate}: member ${member} has more than one step of this gate`,
  readFailed: (gate: string, reason: string) => `gate ${gate}: ${reason}`,
  notARollout: (method: string) => `${method}: the call carries no Rollout (metadata.name is missing)`,
} as const;

/** Why a member makes the gate fail (every waiting member answers Failed with it). */
export const memberFailure = {
  deleted: 'was deleted',
  aborted: (message: string) => `was aborted${message ? ` (${message})` : ''}`,
  degraded: (message: string) => `is degraded${message ? ` (${message})` : ''}`,
} as const;
