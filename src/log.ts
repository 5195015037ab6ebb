import { pino, type DestinationStream, type Logger } from 'pino';

// One logger for the application (the library modules never log; they return errors).
// Level from LOG_LEVEL; credentials never reach the output.

export type { Logger };

export const REDACT_PATHS = [
  'authorization',
  'token',
  'password',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.password',
  '*.bearerToken',
  '*.clientKey',
  '*.client-key-data',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Plugin mode passes stderr (stdout is the handshake). */
  destination?: DestinationStream;
  /** Extra pino options (plugin mode reshapes records for go-plugin's log parser). */
  pinoOptions?: pino.LoggerOptions;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'rollouts-companion',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...options.pinoOptions,
    },
    options.destination ?? pino.destination(1),
  );
}

/** A logger that drops everything: for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
