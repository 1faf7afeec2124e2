import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON-lines logger for a service. Child loggers carry `reqId` / `sessionId` so one session can
 * be followed through gateway and worker logs.
 */
export function createLogger(
  service: string,
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets must never reach a log line, whatever object is logged.
    redact: {
      paths: [
        'password',
        'passphrase',
        'privateKey',
        'secret',
        'token',
        '*.password',
        '*.passphrase',
        '*.privateKey',
        '*.secret',
        '*.token',
        'req.headers.cookie',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
