// The job queue for embedded mode: one process, no Redis. Same semantics as BullMQ within the
// process; what it cannot do is outlive it, so whatever must survive a crash has to be found
// again at start-up by its owner (the recorder re-requests finalisations it finds missing).
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
import {
  MemoryJobBackend,
  type MemoryJobList,
  type StoredJob,
  type Taker,
} from './memory-backend.js';

export interface MemoryJobQueueOptions extends JobQueueOptions {
  /** Shared by job queues that play several replicas (tests). Default: one of its own. */
  backend?: MemoryJobBackend;
}

export function createMemoryJobQueue(options: MemoryJobQueueOptions = {}): JobQueue {
  return new MemoryJobQueue(options);
}

class MemoryJobQueue implements JobQueue {
  private readonly backend: MemoryJobBackend;
  private readonly settings: JobSettings;
  private readonly workers = new Set<MemoryWorker>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: MemoryJobQueueOptions) {
    this.backend = options.backend ?? new MemoryJobBackend();
    this.settings = resolveSettings(options);
  }

  async add(queue: string, data: JobData, options: AddOptions = {}): Promise<void> {
    this.assertOpen();
    this.backend.list(queue).add(JSON.stringify(data), options.jobId, this.settings);
  }

  async repeat(queue: string, everyMs: number, data: JobData = {}): Promise<void> {
    this.assertOpen();
    checkEvery(everyMs);
    this.backend.list(queue).repeat(everyMs, JSON.stringify(data), this.settings);
  }

  process(queue: string, handler: JobHandler, options: ProcessOptions = {}): JobWorker {
    this.assertOpen();
    const worker = new MemoryWorker(
      this.backend.list(queue),
      handler,
      this.settings,
      checkConcurrency(options.concurrency ?? 1),
    );
    this.workers.add(worker);
    return worker;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await Promise.all([...this.workers].map((w) => w.close()));
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

class MemoryWorker implements JobWorker, Taker {
  private readonly running = new Map<StoredJob, { run: object; done: Promise<void> }>();
  private closed = false;
  private givenUp = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly list: MemoryJobList,
    private readonly handler: JobHandler,
    private readonly settings: JobSettings,
    private readonly concurrency: number,
  ) {
    list.join(this);
  }

  hasRoom(): boolean {
    return !this.closed && this.running.size < this.concurrency;
  }

  start(stored: StoredJob, run: object): void {
    const job: Job = {
      queue: this.list.name,
      id: stored.id,
      data: JSON.parse(stored.data) as JobData,
      attempt: stored.attemptsMade + 1,
    };
    const done = runAttempt(job, this.handler, this.settings, () => this.givenUp).then(
      () => this.settle(stored, () => this.list.complete(stored, run)),
      () => this.settle(stored, () => this.list.fail(stored, run)),
    );
    this.running.set(stored, { run, done });
  }

  /** Room first, then the outcome: the list hands out the next job as it records this one. */
  private settle(stored: StoredJob, record: () => void): void {
    this.running.delete(stored);
    record();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.list.leave(this);
      const all = Promise.all([...this.running.values()].map((r) => r.done));
      if (await settlesWithin(all, this.settings.closeGraceMs)) return;
      this.givenUp = true;
      for (const [stored, { run }] of this.running) this.list.giveBack(stored, run);
    })();
    return this.closing;
  }
}
