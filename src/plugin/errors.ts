// User-facing messages of the go-plugin entry (handshake, dispatch, start-up).

export const magicCookieMissing = (key: string, values: readonly string[]) =>
  `This binary is a plugin. These are not meant to be executed directly.\n` +
  `Please execute the program that consumes these plugins, which will\n` +
  `load any plugins automatically (the Argo Rollouts controller sets ${values.map((v) => `${key}=${v}`).join(' or ')}).\n` +
  `To run the companion itself, use 'rollouts-companion serve'.`;
export const protocolVersionUnsupported = (ours: number, versions: string) =>
  `rollouts-companion plugin speaks plugin protocol version ${ours}; the host asked for ${versions}`;
export const AUTO_MTLS_UNSUPPORTED = 'rollouts-companion plugin does not support go-plugin automatic mTLS (PLUGIN_CLIENT_CERT is set)';
export const routerUnavailable = (reason: string) => `rollouts-companion plugin could not start its router: ${reason}`;
export const stepUnavailable = (reason: string) => `rollouts-companion plugin could not start its step: ${reason}`;
/** net/rpc's own wording, as a Go plugin would answer. */
export const unknownPluginType = (name: string) => `unknown plugin type: ${name}`;
export const unknownMethod = (serviceMethod: string) => `rpc: can't find method ${serviceMethod}`;
export const routerFailed = (method: string, error: unknown) =>
  `${method} failed: ${error instanceof Error ? error.message : String(error)}`;
export const unknownSocketGroup = (group: string) => `PLUGIN_UNIX_SOCKET_GROUP: no group named "${group}" in /etc/group`;
