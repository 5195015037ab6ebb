import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogger } from '../log.js';

// go-plugin's host reads the plugin's stderr line by line: a line that parses as JSON is
// re-logged through hclog with its own level and message, any other line becomes a debug
// message. The parser (go-plugin log_entry.go) requires `@message` and `@level` to be
// strings and `@timestamp` to match Go's "2006-01-02T15:04:05.000000Z07:00" exactly;
// every other key becomes a key/value pair. Lines over 64 KiB are not parsed.

const HCLOG_LEVEL: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
};

// Microseconds since the epoch from the monotonic clock, anchored once to the wall clock
// (node:perf_hooks would do the same, at the cost of loading it at every plugin start).
const ANCHOR_MICROS = Date.now() * 1000;
const ANCHOR_NS = process.hrtime.bigint();
const nowMicros = () => ANCHOR_MICROS + Number((process.hrtime.bigint() - ANCHOR_NS) / 1000n);

/** Now as hclog's timestamp: UTC, six fractional digits. */
export function hclogTimestamp(epochMicros = nowMicros()): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = String(epochMicros % 1000).padStart(3, '0');
  // toISOString: 2006-01-02T15:04:05.000Z; insert the microseconds before the Z.
  return `${new Date(millis).toISOString().slice(0, -1)}${micros}Z`;
}

/** Pino options that shape each record as one hclog JSON line. */
export function hclogPinoOptions(): pino.LoggerOptions {
  return {
    messageKey: '@message',
    base: undefined,
    timestamp: () => `,"@timestamp":"${hclogTimestamp()}"`,
    formatters: {
      level: (label) => ({ '@level': HCLOG_LEVEL[label] ?? 'info' }),
    },
  };
}

/** Stderr, written synchronously so the last lines before an exit are not lost. */
export function hclogDestination(fd = 2): DestinationStream {
  return pino.destination({ dest: fd, sync: true });
}

/** The plugin's logger: the application logger (with its redaction) in hclog's format on stderr. */
export function createPluginLogger(level?: string, destination: DestinationStream = hclogDestination()): Logger {
  return createLogger({ level, destination, pinoOptions: hclogPinoOptions() });
}
