// User-facing messages of the gRPC layer.

/** The companion serves a contract version this plugin cannot use. */
export function incompatibleCompanion(
  address: string,
  companion: { version: string; contractVersion: string },
  plugin: { version: string; contractVersion: string },
): string {
  const [theirMajor] = companion.contractVersion.split('.').map(Number);
  const [ourMajor] = plugin.contractVersion.split('.').map(Number);
  const upgrade =
    theirMajor !== undefined && ourMajor !== undefined && theirMajor > ourMajor
      ? 'upgrade the plugin (location and sha256 in argo-rollouts-config) to a release that speaks it'
      : 'upgrade the companion first, then the plugin';
  return (
    `companion ${address} serves contract rollouts.companion.v1 ${companion.contractVersion || '(none)'} (release ${companion.version || 'unknown'}), ` +
    `but this plugin (release ${plugin.version}) needs ${plugin.contractVersion.split('.')[0]}.x at ${plugin.contractVersion} or later: ${upgrade}; ` +
    'nothing was forwarded'
  );
}

/** The companion predates contract versions (no rollouts.companion.v1.Version service). */
export function companionWithoutVersion(address: string, plugin: { version: string; contractVersion: string }): string {
  return (
    `companion ${address} does not report its contract version (rollouts.companion.v1.Version is not implemented: an older release), ` +
    `but this plugin (release ${plugin.version}) needs contract ${plugin.contractVersion}: upgrade the companion first, then the plugin; nothing was forwarded`
  );
}
