/**
 * Background jobs that must not be lost: named queues, each job run by one worker of all
 * replicas, retried with exponential backoff when its handler throws. BullMQ on Redis in
 * distributed mode, in memory in embedded mode; one conformance suite covers both.
 *
 * Jobs may run more than once (a worker that dies mid-job leaves it to another), so handlers
 * must be idempotent.
 */
export interface JobQueue {
  /**
   * Adds a job to `queue`. With a `jobId`, a job of that id that is still pending (waiting,
   * waiting for a retry, or running) makes this a no-op; once it has completed or failed for
   * good, adding it again runs it again.
   */
  add(queue: string, data: JobData, options?: AddOptions): Promise<void>;

  /**
   * Runs a job on `queue` every `everyMs`, first one period from now, on one worker of all
   * each time. Every replica calls it at start-up: the schedule is shared, not doubled; the
   * last call's data applies, and a different `everyMs` starts the schedule afresh.
   */
  repeat(queue: string, everyMs: number, data?: JobData): Promise<void>;

  /** Takes jobs from `queue` and runs `handler` on each; a rejection is a failed attempt. */
  process(queue: string, handler: JobHandler, options?: ProcessOptions): JobWorker;

  /** Closes every worker (see JobWorker.close), then the connections. Idempotent. */
  close(): Promise<void>;
}

/** What a job carries: plain JSON (it is stored as JSON, so a Date comes back a string). */
export type JobData = Record<string, unknown>;

export interface AddOptions {
  /** Identifies the job for deduplication (see JobQueue.add). Default: a new id. */
  jobId?: string;
}

export interface ProcessOptions {
  /** Jobs this worker runs at once. Default 1. */
  concurrency?: number;
}

export interface Job {
  queue: string;
  /** The jobId it was added with, else one given to it. */
  id: string;
  data: JobData;
  /** 1 on the first run, 2 on the first retry, and so on. */
  attempt: number;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface JobWorker {
  /**
   * Stops taking jobs and waits for those running, up to closeGraceMs. A job still running
   * then is left as a worker that died would leave it, for another worker to run again.
   * Idempotent.
   */
  close(): Promise<void>;
}

/** Structurally a subset of pino's Logger, so a service passes its own. */
export interface JobLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What both implementations take; each field's default is in JOB_DEFAULTS. */
export interface JobQueueOptions {
  /** Runs a job gets before it fails for good. Default 5. */
  attempts?: number;
  /** The first retry waits this long, each later one twice the one before. Default 1 000 ms. */
  backoffMs?: number;
  /** How long closing a worker waits for its running jobs. Default 5 000 ms. */
  closeGraceMs?: number;
  /** Retries (warn) and jobs that failed for good (error) are logged here. Default the console. */
  logger?: JobLogger;
  /** Told of each job that failed for good (its last attempt threw), e.g. to count it. */
  onFailed?: (job: Job, err: unknown) => void;
}

export const JOB_DEFAULTS = {
  attempts: 5,
  backoffMs: 1_000,
  closeGraceMs: 5_000,
} as const;

/** The wait before retrying failed attempt `attempt` (1-based), as BullMQ's exponential backoff. */
export function retryDelayMs(attempt: number, backoffMs: number): number {
  return Math.round(2 ** (attempt - 1) * backoffMs);
}

export function closedError(): Error {
  return new Error('job queue is closed');
}

export const consoleLogger: JobLogger = {
  warn: (obj, msg) => console.warn(msg ?? 'jobs warning', obj),
  error: (obj, msg) => console.error(msg ?? 'jobs error', obj),
};
