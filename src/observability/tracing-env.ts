// Whether the standard OTEL_* variables ask for traces: a module of its own so that deciding
// costs nothing, and the SDK (src/observability/tracing.ts) loads only when the answer is yes.

/** An OTLP endpoint is set, or OTEL_TRACES_EXPORTER=otlp; and the SDK is not disabled. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== 'otlp') return false;
  return exporter === 'otlp' || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}
