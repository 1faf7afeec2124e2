// What both implementations share about running a job, so their behaviour cannot drift apart:
// the settings, how a failed attempt is reported, and how close() waits for running jobs.
import {
  consoleLogger,
  JOB_DEFAULTS,
  retryDelayMs,
  type Job,
  type JobHandler,
  type JobLogger,
  type JobQueueOptions,
} from './job-queue.js';

export interface JobSettings {
  attempts: number;
  backoffMs: number;
  closeGraceMs: number;
  logger: JobLogger;
  onFailed: ((job: Job, err: unknown) => void) | undefined;
}

/** The options with their defaults, checked once: a bad value fails at start-up, naming it. */
export function resolveSettings(options: JobQueueOptions): JobSettings {
  const settings = {
    attempts: options.attempts ?? JOB_DEFAULTS.attempts,
    backoffMs: options.backoffMs ?? JOB_DEFAULTS.backoffMs,
    closeGraceMs: options.closeGraceMs ?? JOB_DEFAULTS.closeGraceMs,
    logger: options.logger ?? consoleLogger,
    onFailed: options.onFailed,
  };
  if (!Number.isInteger(settings.attempts) || settings.attempts < 1)
    throw new RangeError(
      `job queue attempts must be a whole number from 1, got ${settings.attempts}`,
    );
  for (const name of ['backoffMs', 'closeGraceMs'] as const) {
    if (!Number.isFinite(settings[name]) || settings[name] < 0)
      throw new RangeError(
        `job queue ${name} must be a number of ms from 0, got ${settings[name]}`,
      );
  }
  return settings;
}

/**
 * Runs one attempt and reports its failure: a warning while retries remain, an error and
 * onFailed after the last one. Rethrows, so the queue retries or fails the job. Nothing is
 * reported for an attempt its worker has given up on (see JobWorker.close): the job is
 * someone else's by then.
 */
export async function runAttempt(
  job: Job,
  handler: JobHandler,
  settings: JobSettings,
  givenUp: () => boolean,
): Promise<void> {
  try {
    await handler(job);
  } catch (err) {
    if (givenUp()) throw err;
    const context = { err, queue: job.queue, jobId: job.id, attempt: job.attempt };
    if (job.attempt < settings.attempts) {
      const retryInMs = retryDelayMs(job.attempt, settings.backoffMs);
      settings.logger.warn({ ...context, retryInMs }, 'job failed; it will be retried');
    } else {
      settings.logger.error(context, 'job failed on its last attempt; it is kept as failed');
      try {
        settings.onFailed?.(job, err);
      } catch (hookErr) {
        settings.logger.error({ err: hookErr }, 'jobs: onFailed threw');
      }
    }
    throw err;
  }
}

export function checkEvery(everyMs: number): void {
  if (!Number.isFinite(everyMs) || everyMs <= 0)
    throw new RangeError(`a repeat job's period must be a positive number of ms, got ${everyMs}`);
}

export function checkConcurrency(concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(
      `a worker's concurrency must be a whole number from 1, got ${concurrency}`,
    );
  return concurrency;
}

/** True if `work` settled within `ms`; its outcome is the caller's to observe. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
