// The one test suite every JobQueue passes: memory-job-queue.test.ts runs it in-process,
// bullmq-job-queue.int.test.ts against a real Redis. Queues opened on one fixture share a
// backend, so a test can play several replicas. Nothing here sleeps or times anything: tests
// wait for what they expect, with timeouts generous enough for BullMQ's stalled-job check.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobLogger, JobQueue, JobQueueOptions } from './job-queue.js';

/** One backend (a Redis key prefix, or a shared memory backend) and the queues opened on it. */
export interface JobQueueFixture {
  /** A new job queue on the shared backend: one more replica. cleanup() closes it. */
  open(options?: JobQueueOptions): Promise<JobQueue>;
  /** Closes every queue opened and removes whatever they left in the backend. */
  cleanup(): Promise<void>;
}

export type FixtureFactory = () => Promise<JobQueueFixture>;

/** Quick retries and a short close grace, so the suite runs in seconds. */
const FAST = { attempts: 3, backoffMs: 20, closeGraceMs: 100 } as const;
/** Long enough for a job left by a dead worker to come back (the stalled check, in BullMQ). */
const RECOVERY_MS = 20_000;

export function describeJobQueueConformance(name: string, makeFixture: FixtureFactory): void {
  describe(`${name} job queue conformance`, () => {
    let fixture: JobQueueFixture | undefined;
    let queue = '';
    const open = (options: JobQueueOptions = {}) =>
      fixture!.open({ ...FAST, logger: recordingLogger(), ...options });
    beforeEach(async () => {
      fixture = await makeFixture();
      queue = `q-${Math.random().toString(36).slice(2, 10)}`;
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('runs each job added once, on one worker of all, with its data as JSON', async () => {
      const [a, b, producer] = [await open(), await open(), await open()];
      const runs: Job[] = [];
      const record = async (job: Job) => void runs.push(job);
      a.process(queue, record, { concurrency: 2 });
      b.process(queue, record);
      const numbers = Array.from({ length: 20 }, (_, n) => n);
      for (const n of numbers) await producer.add(queue, { n, at: new Date(0), list: [n, 'x'] });
      await eventually(() => runs.length).toBe(numbers.length);
      expect(runs.map((job) => job.data.n).sort((x, y) => Number(x) - Number(y))).toEqual(numbers);
      expect(new Set(runs.map((job) => job.id)).size).toBe(numbers.length);
      expect(runs[0]).toMatchObject({
        queue,
        attempt: 1,
        data: { at: '1970-01-01T00:00:00.000Z', list: [expect.any(Number), 'x'] },
      });
    });

    it('makes adding a pending jobId a no-op, and runs it again once it has completed', async () => {
      const q = await open();
      for (let i = 0; i < 3; i++) await q.add(queue, { i }, { jobId: 'x' });
      await q.add(queue, {}, { jobId: 'marker-1' });
      const runs = recorder(q, queue);
      // FIFO: a second "x" would have run before the marker added after it.
      await eventually(() => runs.ids()).toEqual(['x', 'marker-1']);
      expect(runs.jobs[0]!.data).toEqual({ i: 0 });

      // Its completion is recorded just after the handler returns: add until it runs again.
      await eventually(async () => {
        if (runs.jobs.length < 3) await q.add(queue, { i: 3 }, { jobId: 'x' });
        return runs.ids().slice(2, 3);
      }).toEqual(['x']);
    });

    it('makes adding a running jobId a no-op', async () => {
      const q = await open();
      const release = deferred();
      const runs = recorder(q, queue, (job) => (job.id === 'x' ? release.promise : undefined));
      await q.add(queue, {}, { jobId: 'x' });
      await eventually(() => runs.ids()).toEqual(['x']);
      await q.add(queue, {}, { jobId: 'x' });
      await q.add(queue, {}, { jobId: 'marker' });
      release.resolve();
      await eventually(() => runs.ids()).toEqual(['x', 'marker']);
    });

    it('retries a job whose handler throws, with backoff, until it succeeds', async () => {
      const logger = recordingLogger();
      const q = await open({ logger });
      const runs = recorder(q, queue, (job) => {
        if (job.attempt < 3) throw new Error(`attempt ${job.attempt} failed`);
      });
      await q.add(queue, { n: 1 }, { jobId: 'flaky' });
      await eventually(() => runs.jobs.map((job) => job.attempt)).toEqual([1, 2, 3]);
      expect(runs.jobs.map((job) => job.data)).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
      expect(jobEntries(logger).map((e) => e.level)).toEqual(['warn', 'warn']);
      expect(jobEntries(logger)[0]).toMatchObject({ queue, jobId: 'flaky', attempt: 1 });
    });

    it('fails a job for good after its last attempt, says so, and lets it be added again', async () => {
      const logger = recordingLogger();
      const failed: Job[] = [];
      const q = await open({ logger, onFailed: (job) => failed.push(job) });
      const runs = recorder(q, queue, () => {
        throw new Error('always');
      });
      await q.add(queue, {}, { jobId: 'doomed' });
      await eventually(() => failed.length).toBe(1);
      expect(failed[0]).toMatchObject({ queue, id: 'doomed', attempt: FAST.attempts });
      expect(runs.jobs.map((job) => job.attempt)).toEqual([1, 2, 3]);
      const errors = jobEntries(logger).filter((e) => e.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ attempt: 3 });
      expect(errors[0]!.msg).toMatch(/last attempt/);
      expect(errors[0]!.err).toBeInstanceOf(Error);

      await eventually(async () => {
        if (runs.jobs.length === 3) await q.add(queue, {}, { jobId: 'doomed' });
        return runs.jobs.map((job) => job.attempt);
      }).toEqual([1, 2, 3, 1]);
    });

    it('gives a job left by a worker that dies to another worker', async () => {
      const [dying, survivor] = [await open(), await open()];
      const stuck = deferred();
      const dead = recorder(dying, queue, () => stuck.promise);
      await dying.add(queue, { n: 7 }, { jobId: 'orphan' });
      await eventually(() => dead.ids()).toEqual(['orphan']);
      const alive = recorder(survivor, queue);
      // Its handler never returns: closing gives up after the grace, as a crash would.
      await dying.close();
      await eventually(() => alive.ids(), RECOVERY_MS).toEqual(['orphan']);
      expect(alive.jobs[0]).toMatchObject({ data: { n: 7 }, attempt: 1 });
      stuck.resolve(); // the dead worker's late finish must change nothing
      await survivor.add(queue, {}, { jobId: 'marker' });
      await eventually(() => alive.ids()).toEqual(['orphan', 'marker']);
    });

    it('runs a repeat job on one worker of all each period, never on both', async () => {
      const [a, b] = [await open(), await open()];
      // Both replicas schedule it at start-up, as every recorder does: one schedule, the last
      // call's data. Two schedules would show as runs with both replicas' data.
      await a.repeat(queue, 200, { from: 'a' });
      await b.repeat(queue, 200, { from: 'b' });
      const runs = [recorder(a, queue), recorder(b, queue)];
      const all = () => runs.flatMap((r) => r.jobs);
      await eventually(() => all().length, 10_000).toBeGreaterThanOrEqual(4);
      const ids = all().map((job) => job.id);
      expect(new Set(ids).size).toBe(ids.length); // no period's job ran twice
      expect(all().map((job) => job.data)).toEqual(ids.map(() => ({ from: 'b' })));
    });

    it('close() lets running jobs finish, takes no more, and refuses later calls', async () => {
      const [closing, other] = [await open({ closeGraceMs: 10_000 }), await open()];
      const finish = deferred();
      const first = recorder(closing, queue, () => finish.promise);
      await closing.add(queue, {}, { jobId: 'running' });
      await eventually(() => first.ids()).toEqual(['running']);
      const closed = closing.close();
      finish.resolve();
      await closed;
      await closing.close(); // idempotent

      await other.add(queue, {}, { jobId: 'after-close' });
      const second = recorder(other, queue);
      // "running" finished before close resolved: it is not run again.
      await eventually(() => second.ids()).toEqual(['after-close']);
      expect(first.ids()).toEqual(['running']);
      await expect(closing.add(queue, {})).rejects.toThrow(/closed/);
      await expect(closing.repeat(queue, 1_000)).rejects.toThrow(/closed/);
      expect(() => closing.process(queue, async () => {})).toThrow(/closed/);
    });
  });
}

/** A worker on `queue` that records every job it is given; `behave` may throw or wait. */
function recorder(q: JobQueue, queue: string, behave?: (job: Job) => unknown) {
  const jobs: Job[] = [];
  q.process(queue, async (job) => {
    jobs.push(job);
    await behave?.(job);
  });
  return { jobs, ids: () => jobs.map((job) => job.id) };
}

function eventually<T>(read: () => T | Promise<T>, timeout = 5_000) {
  return expect.poll(read, { timeout, interval: 20 });
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Keeps what it is told, so expected failures neither clutter the output nor go unchecked. */
function recordingLogger(): JobLogger & { entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  return {
    entries,
    warn: (obj, msg) => entries.push({ level: 'warn', msg, ...obj }),
    error: (obj, msg) => entries.push({ level: 'error', msg, ...obj }),
  };
}

/** What the queue said about jobs (a connection's complaints are not the point here). */
const jobEntries = (logger: ReturnType<typeof recordingLogger>) =>
  logger.entries.filter((e) => e.jobId !== undefined);
