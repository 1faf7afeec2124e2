// The job queue for distributed mode: BullMQ on Redis. Jobs outlive the process that added
// them; a job whose worker died goes back to the queue once its lock lapses; a job that failed
// on its last attempt stays in the queue's failed set, where an operator can see and retry it.
import { openRedisConnection, quitRedisConnection } from '@sallyport/bus';
import {
  isNotConnectionError,
  Queue,
  WaitingError,
  Worker,
  type Job as BullJob,
  type JobsOptions,
  type WorkerOptions,
} from 'bullmq';
import type { Redis } from 'ioredis';
import {
  checkConcurrency,
  checkEvery,
  resolveSettings,
  runAttempt,
  settlesWithin,
  type JobSettings,
} from './internal.js';
import {
  closedError,
  type AddOptions,
  type Job,
  type JobData,
  type JobHandler,
  type JobQueue,
  type JobQueueOptions,
  type JobWorker,
  type ProcessOptions,
} from './job-queue.js';

export interface BullmqJobQueueOptions extends JobQueueOptions {
  url: string;
  /** Sallyport's key prefix, as the bus's. BullMQ's keys: `<prefix>jobs:<queue>:…`. Default "sp:". */
  prefix?: string;
  /**
   * How long a job whose worker stopped renewing its lock (the process died) waits before the
   * stalled-job check of another worker puts it back: BullMQ's lockDuration, and how often that
   * check runs. Default 30 000 ms.
   */
  stallTimeoutMs?: number;
  /** Completed jobs, and failed ones, each queue keeps for inspection. Default 1 000 each. */
  keepJobs?: number;
}

export function createBullmqJobQueue(options: BullmqJobQueueOptions): JobQueue {
  return new BullmqJobQueue(options);
}

class BullmqJobQueue implements JobQueue {
  private readonly url: string;
  private readonly prefix: string;
  private readonly settings: JobSettings;
  private readonly stallTimeoutMs: number;
  private readonly jobOptions: JobsOptions;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Set<BullmqWorker>();
  // Opened on first use: services that never touch a job (gateway, session worker) open none.
  private commands: Redis | undefined;
  private workerConnection: Redis | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: BullmqJobQueueOptions) {
    this.url = options.url;
    this.prefix = options.prefix ?? 'sp:';
    this.settings = resolveSettings(options);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    const keep = { count: options.keepJobs ?? 1_000 };
    this.jobOptions = {
      attempts: this.settings.attempts,
      backoff: { type: 'exponential', delay: this.settings.backoffMs },
      removeOnComplete: keep,
      removeOnFail: keep,
    };
  }

  async add(queue: string, data: JobData, options: AddOptions = {}): Promise<void> {
    this.assertOpen();
    // BullMQ's own job ids stay taken while finished jobs are kept, so a job that failed for
    // good could never be asked for again; its deduplication id is free once the job finishes.
    const deduplication = options.jobId ? { deduplication: { id: options.jobId } } : {};
    await this.queue(queue).add(queue, data, { ...this.jobOptions, ...deduplication });
  }

  async repeat(queue: string, everyMs: number, data: JobData = {}): Promise<void> {
    this.assertOpen();
    checkEvery(everyMs);
    // The start date counts only when the schedule is new (or its period changed): a replica
    // that upserts the same schedule later keeps the next iteration where it was.
    await this.queue(queue).upsertJobScheduler(
      queue,
      { every: everyMs, startDate: Date.now() + everyMs },
      { name: queue, data, opts: this.jobOptions },
    );
  }

  process(queue: string, handler: JobHandler, options: ProcessOptions = {}): JobWorker {
    this.assertOpen();
    const worker: BullmqWorker = new BullmqWorker(queue, handler, this.settings, {
      connection: this.connectionForWorkers(),
      prefix: this.bullmqPrefix,
      concurrency: checkConcurrency(options.concurrency ?? 1),
      lockDuration: this.stallTimeoutMs,
      stalledInterval: this.stallTimeoutMs,
    });
    this.workers.add(worker);
    return worker;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private get bullmqPrefix(): string {
    return `${this.prefix}jobs`;
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      this.commands ??= openRedisConnection(
        this.url,
        `${this.prefix}jobs-cmd`,
        this.settings.logger,
      );
      queue = new Queue(name, { connection: this.commands, prefix: this.bullmqPrefix });
      queue.on('error', (err) => reportError(this.settings, name, err));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Shared by this process's workers for their commands; BullMQ gives each worker a blocking
   * connection of its own, a duplicate of this one. Lock renewals and job moves must wait out a
   * reconnect rather than fail after a few retries, hence no limit per request (BullMQ insists).
   */
  private connectionForWorkers(): Redis {
    this.workerConnection ??= openRedisConnection(
      this.url,
      `${this.prefix}jobs-work`,
      this.settings.logger,
      { maxRetriesPerRequest: null },
    );
    return this.workerConnection;
  }

  /** Every step runs even if an earlier one failed; each failure is logged. */
  private async shutdown(): Promise<void> {
    this.closed = true;
    const connections = [this.commands, this.workerConnection].filter((c) => c !== undefined);
    const steps: [string, () => Promise<unknown>][] = [
      ['close workers', () => Promise.all([...this.workers].map((w) => w.close()))],
      ['close queues', () => Promise.all([...this.queues.values()].map((q) => q.close()))],
      ['close connections', () => Promise.all(connections.map((c) => quitRedisConnection(c)))],
    ];
    for (const [step, run] of steps) {
      try {
        await run();
      } catch (err) {
        this.settings.logger.error({ err, step }, 'jobs: close step failed');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

class BullmqWorker implements JobWorker {
  private readonly worker: Worker;
  private readonly giveUps = new Set<() => void>();
  private givenUp = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly queue: string,
    private readonly handler: JobHandler,
    private readonly settings: JobSettings,
    options: WorkerOptions,
  ) {
    this.worker = new Worker(queue, (job: BullJob) => this.run(job), options);
    this.worker.on('error', (err) => reportError(settings, queue, err));
    this.worker.on('stalled', (jobId) =>
      settings.logger.warn(
        { queue, bullmqJobId: jobId },
        'a job whose worker stopped (it died, or gave the job up) goes back to the queue',
      ),
    );
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // BullMQ's close stops taking jobs and waits for the running ones, however long.
      const closed = this.worker.close();
      if (await settlesWithin(closed, this.settings.closeGraceMs)) return closed;
      this.givenUp = true;
      for (const giveUp of this.giveUps) giveUp();
      return closed;
    })();
    return this.closing;
  }

  private async run(bullJob: BullJob): Promise<void> {
    if (this.givenUp) throw new WaitingError(); // fetched as close gave up: leave it too
    const job: Job = {
      queue: this.queue,
      id: bullJob.deduplicationId ?? bullJob.id ?? '',
      data: bullJob.data as JobData,
      attempt: bullJob.attemptsMade + 1,
    };
    const attempt = runAttempt(job, this.handler, this.settings, () => this.givenUp);
    void attempt.catch(() => {}); // once given up, nobody else awaits it
    let giveUp!: () => void;
    const givenUp = new Promise<'given up'>((resolve) => (giveUp = () => resolve('given up')));
    this.giveUps.add(giveUp);
    try {
      if ((await Promise.race([attempt, givenUp])) === 'given up') {
        // Leave the job as a worker that died would. A WaitingError tells BullMQ to neither
        // complete nor fail it and to stop renewing its lock; once the lock lapses, another
        // worker's stalled-job check puts it back. Handing it back at once would be quicker,
        // but this way a worker that gives up and one that crashes take the same, tested path.
        throw new WaitingError();
      }
    } finally {
      this.giveUps.delete(giveUp);
    }
  }
}

/** Connection errors are logged once per outage by the connection itself (see the bus). */
function reportError(settings: JobSettings, queue: string, err: Error): void {
  if (isNotConnectionError(err)) settings.logger.error({ err, queue }, 'jobs: BullMQ error');
}
