/**
 * The catalogue of errors Sallyport reports to clients. Each code has a stable HTTP status and
 * says whether its message may be shown to the client; anything else is logged with the
 * request id and answered with the status text only.
 */
export const errorCatalogue = {
  bad_request: { status: 400, expose: true },
  validation_failed: { status: 400, expose: true },
  unauthenticated: { status: 401, expose: true },
  invalid_credentials: { status: 401, expose: true },
  forbidden: { status: 403, expose: true },
  origin_rejected: { status: 403, expose: true },
  not_found: { status: 404, expose: true },
  conflict: { status: 409, expose: true },
  gone: { status: 410, expose: true },
  payload_too_large: { status: 413, expose: true },
  rate_limited: { status: 429, expose: true },
  internal: { status: 500, expose: false },
  /** Stored data (a recording) is not what was written: tampered with or damaged. */
  integrity_failed: { status: 500, expose: true },
  /** A target server failed or refused: connection lost, authentication, host key. */
  bad_gateway: { status: 502, expose: true },
  unavailable: { status: 503, expose: true },
  /** A target server did not answer in time. */
  gateway_timeout: { status: 504, expose: true },
} as const satisfies Record<string, { status: number; expose: boolean }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error whose code, status and (when exposed) message the client sees. */
export class AppError extends Error {
  readonly status: number;
  readonly expose: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra client-safe detail, e.g. the field that failed validation. */
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = errorCatalogue[code].status;
    this.expose = errorCatalogue[code].expose;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

/** The body a client receives for an error: only what the catalogue allows it to see. */
export function toClientError(err: unknown): {
  status: number;
  body: { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };
} {
  if (isAppError(err) && err.expose) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details ? { details: err.details } : {}),
        },
      },
    };
  }
  const code: ErrorCode = isAppError(err) ? err.code : 'internal';
  const status = errorCatalogue[code].status;
  return { status, body: { error: { code, message: statusText(status) } } };
}

function statusText(status: number): string {
  return status >= 500 ? 'Internal error' : 'Request failed';
}
