// argoproj-labs/gatewayAPI is a Go program: its documented plugin args use Go's flag syntax
// (`-kubeClientQPS=40`, `--logformat=json`, `-kubeconfig /path`) and its own flag names. The
// controller passes a trafficRouterPlugins entry's `args` unchanged, so switching the entry's
// location to this plugin keeps those args: they are translated here before commander parses
// them. Every flag any gatewayAPI release defines (main.go) is listed.

/** gatewayAPI flag → this plugin's long option. */
export const GATEWAY_API_FLAGS = {
  kubeClientQPS: 'kube-qps',
  kubeClientBurst: 'kube-burst',
  kubeconfig: 'kubeconfig',
  logformat: 'log-format',
  pluginAlias: 'plugin-name',
} as const satisfies Record<string, string>;

const GO_FLAG = /^--?([A-Za-z][A-Za-z0-9_-]*)(=[\s\S]*)?$/;

/**
 * Go flag syntax → commander's: `-name`, `--name`, `-name=v`, `--name=v` become `--name[=v]`,
 * gatewayAPI's names become ours. A value in the next argument (after an option in `valued`,
 * the long options that take one) is passed as it is, even when it starts with a dash. Go
 * stops at `--`; so does this. The plugin command has no short options, so a single-dash word
 * is always a long option.
 */
export function fromGoFlags(args: readonly string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const m = GO_FLAG.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const [, name, value = ''] = m;
    const ours = Object.hasOwn(GATEWAY_API_FLAGS, name!) ? GATEWAY_API_FLAGS[name as keyof typeof GATEWAY_API_FLAGS] : name;
    out.push(`--${ours}${value}`);
    if (!value && valued.has(ours!) && i + 1 < args.length) out.push(args[++i]!);
  }
  return out;
}
