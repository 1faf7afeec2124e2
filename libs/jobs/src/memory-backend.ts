// The state BullMQ keeps in Redis, kept in this process: per queue the jobs ready to run, those
// waiting for their time (a retry's backoff, a schedule's next iteration) and those running.
// Several memory job queues may share one backend, the way replicas share one Redis: tests use
// that to model "another replica"; embedded mode has one queue and so one backend.
import { retryDelayMs } from './job-queue.js';

export interface StoredJob {
  readonly id: string;
  /** Kept as JSON, so every run gets its own copy, as it would from Redis. */
  readonly data: string;
  readonly retry: RetryPolicy;
  attemptsMade: number;
  /** The run holding the job; a settle from any other run (one given up on) is ignored. */
  run: object | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** A worker as a queue sees it. */
export interface Taker {
  hasRoom(): boolean;
  /** Starts the job, synchronously, so that hasRoom() already counts it. */
  start(job: StoredJob, run: object): void;
}

interface Schedule {
  everyMs: number;
  data: string;
  retry: RetryPolicy;
  /** The iteration not yet taken, and when it is due. */
  next: { job: StoredJob; dueAt: number } | undefined;
}

export class MemoryJobBackend {
  private readonly lists = new Map<string, MemoryJobList>();

  list(queue: string): MemoryJobList {
    let list = this.lists.get(queue);
    if (!list) {
      list = new MemoryJobList(queue);
      this.lists.set(queue, list);
    }
    return list;
  }
}

export function createMemoryJobBackend(): MemoryJobBackend {
  return new MemoryJobBackend();
}

export class MemoryJobList {
  private readonly ready: StoredJob[] = [];
  /** Every job not finished, by id: ready, waiting for its time, or running. */
  private readonly pending = new Map<string, StoredJob>();
  private takers: Taker[] = [];
  /** Round-robin start, so jobs spread over workers as Redis spreads them over blocked readers. */
  private turn = 0;
  private nextId = 1;
  private schedule: Schedule | undefined;
  private dispatchQueued = false;

  constructor(readonly name: string) {}

  add(data: string, jobId: string | undefined, retry: RetryPolicy): void {
    const id = jobId ?? String(this.nextId++);
    if (this.pending.has(id)) return;
    this.enqueue(this.newJob(id, data, retry), 0);
  }

  /** As BullMQ's upsert: the same period keeps the next iteration's time, with the new data. */
  repeat(everyMs: number, data: string, retry: RetryPolicy): void {
    const previous = this.schedule;
    this.schedule = { everyMs, data, retry, next: undefined };
    const next = previous?.next;
    if (next && !next.job.run) this.remove(next.job);
    const keepTime = previous?.everyMs === everyMs && next && !next.job.run;
    this.scheduleAt(keepTime ? next.dueAt : Date.now() + everyMs);
  }

  join(taker: Taker): void {
    this.takers.push(taker);
    this.dispatch();
  }

  leave(taker: Taker): void {
    this.takers = this.takers.filter((t) => t !== taker);
  }

  complete(job: StoredJob, run: object): void {
    if (job.run !== run) return;
    job.run = undefined;
    this.pending.delete(job.id);
    this.dispatch();
  }

  fail(job: StoredJob, run: object): void {
    if (job.run !== run) return;
    job.run = undefined;
    job.attemptsMade += 1;
    if (job.attemptsMade < job.retry.attempts) {
      this.enqueue(job, retryDelayMs(job.attemptsMade, job.retry.backoffMs));
    } else {
      this.pending.delete(job.id); // failed for good: its id may be added again
    }
    this.dispatch();
  }

  /** A worker gave up on a running job: it goes to the front, for another worker. */
  giveBack(job: StoredJob, run: object): void {
    if (job.run !== run) return;
    job.run = undefined;
    this.ready.unshift(job);
    this.dispatch();
  }

  private newJob(id: string, data: string, retry: RetryPolicy): StoredJob {
    const job: StoredJob = { id, data, retry, attemptsMade: 0, run: undefined, timer: undefined };
    this.pending.set(id, job);
    return job;
  }

  private enqueue(job: StoredJob, delayMs: number): void {
    if (delayMs <= 0) {
      this.ready.push(job);
      this.dispatch();
      return;
    }
    job.timer = setTimeout(() => {
      job.timer = undefined;
      this.ready.push(job);
      this.dispatch();
    }, delayMs);
    // A pending retry or iteration must not keep a process alive that has nothing else to do.
    job.timer.unref();
  }

  private scheduleAt(dueAt: number): void {
    const schedule = this.schedule!;
    const job = this.newJob(`repeat:${this.name}:${dueAt}`, schedule.data, schedule.retry);
    schedule.next = { job, dueAt };
    this.enqueue(job, dueAt - Date.now());
  }

  /** Removes a job that is not running (a schedule's iteration, when the schedule changes). */
  private remove(job: StoredJob): void {
    if (job.run) return;
    clearTimeout(job.timer);
    const at = this.ready.indexOf(job);
    if (at >= 0) this.ready.splice(at, 1);
    this.pending.delete(job.id);
  }

  /** Hands ready jobs to workers with room, on a later microtask: never inside add(). */
  private dispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      while (this.ready.length > 0) {
        const taker = this.nextTaker();
        if (!taker) return;
        const job = this.ready.shift()!;
        job.run = {};
        this.onTaken(job);
        taker.start(job, job.run);
      }
    });
  }

  private nextTaker(): Taker | undefined {
    for (let i = 0; i < this.takers.length; i++) {
      const taker = this.takers[(this.turn + i) % this.takers.length]!;
      if (taker.hasRoom()) {
        this.turn = (this.turn + i + 1) % this.takers.length;
        return taker;
      }
    }
    return undefined;
  }

  /** As BullMQ does: a schedule's next iteration is made when the current one is taken. */
  private onTaken(job: StoredJob): void {
    const schedule = this.schedule;
    if (!schedule?.next || schedule.next.job !== job) return;
    const { dueAt } = schedule.next;
    // Periods missed while nobody took the job are skipped, not run back to back.
    const periods = Math.floor(Math.max(0, Date.now() - dueAt) / schedule.everyMs) + 1;
    this.scheduleAt(dueAt + periods * schedule.everyMs);
  }
}
