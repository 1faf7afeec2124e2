/**
 * The little a transport needs from a logger. Structurally a subset of pino's Logger, so a
 * service passes its pino instance as it is, and libs/bus does not depend on libs/log.
 */
export interface BusLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Used when no logger is given: failures must still be seen somewhere. */
export const consoleLogger: BusLogger = {
  warn: (obj, msg) => console.warn(msg ?? 'bus warning', obj),
  error: (obj, msg) => console.error(msg ?? 'bus error', obj),
};
