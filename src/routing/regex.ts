import * as msg from './errors.js';
import type { HeaderRoutingMatch, RouteMatch, StringMatch } from './rollout.js';

// Gateway implementations (Envoy and others) evaluate RegularExpression matches with RE2
// semantics. A pattern RE2 rejects (lookahead, backreferences, an unbalanced group) would be
// written and then refused or silently ignored by the gateway, so it is compiled here first
// and the step fails with the field at fault. re2js is a pure-JS port of RE2(J): same syntax.
// It is loaded on the first regex only (260 kB; most steps have none).

type Step = 'setHeaderRoute' | 'setMirrorRoute';
interface Regex {
  field: string;
  pattern: string;
}

async function assertRe2(step: Step, name: string, regexes: readonly Regex[]): Promise<void> {
  if (!regexes.length) return;
  const { RE2JS } = await import('re2js');
  for (const { field, pattern } of regexes) {
    try {
      RE2JS.compile(pattern);
    } catch (e) {
      // The parser's message is part of ours (one line); chaining it as the cause would repeat it.
      throw new Error(msg.regexInvalid(step, name, field, pattern, e instanceof Error ? e.message : String(e)));
    }
  }
}

const regexOf = (field: string, m: StringMatch | undefined): Regex[] => (typeof m?.regex === 'string' ? [{ field, pattern: m.regex }] : []);

/** Rejects, naming the field, when a setHeaderRoute regex is not valid RE2. */
export function assertHeaderRouteRegexes(name: string, match: readonly HeaderRoutingMatch[]): Promise<void> {
  return assertRe2('setHeaderRoute', name, match.flatMap((m, i) => regexOf(`match[${i}].headerValue.regex`, m?.headerValue)));
}

/** Rejects, naming the field, when a setMirrorRoute regex (path, method or header) is not valid RE2. */
export function assertMirrorRouteRegexes(name: string, match: readonly RouteMatch[]): Promise<void> {
  return assertRe2(
    'setMirrorRoute',
    name,
    match.flatMap((m, i) => [
      ...regexOf(`match[${i}].path.regex`, m?.path),
      ...regexOf(`match[${i}].method.regex`, m?.method),
      ...Object.entries(m?.headers ?? {}).flatMap(([header, value]) => regexOf(`match[${i}].headers[${JSON.stringify(header)}].regex`, value)),
    ]),
  );
}
