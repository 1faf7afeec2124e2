import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../tests/harness/redis.js';
import { createBullmqJobQueue, type BullmqJobQueueOptions } from './bullmq-job-queue.js';
import { describeJobQueueConformance, type JobQueueFixture } from './conformance.js';
import type { JobQueue } from './job-queue.js';

// BullMQ's defaults wait 30 s for a dead worker's lock to lapse and check for stalled jobs as
// seldom; a second keeps the "worker dies" tests quick while still going through that path.
const STALL_TIMEOUT_MS = 1_000;

/** Job queues on the shared test Redis, under a prefix of their own; its keys go afterwards. */
function bullmqFixture(): JobQueueFixture & { prefix: string } {
  const prefix = uniquePrefix();
  const opened: JobQueue[] = [];
  return {
    prefix,
    open: (options: Partial<BullmqJobQueueOptions> = {}) => {
      const queue = createBullmqJobQueue({
        url: REDIS_URL,
        prefix,
        stallTimeoutMs: STALL_TIMEOUT_MS,
        ...options,
      });
      opened.push(queue);
      return Promise.resolve(queue);
    },
    cleanup: async () => {
      await Promise.all(opened.map((q) => q.close()));
      await cleanupPrefix(prefix);
    },
  };
}

describeJobQueueConformance('bullmq', () => Promise.resolve(bullmqFixture()));

describe('bullmq job queue', () => {
  let admin: Redis;
  let fixture: ReturnType<typeof bullmqFixture>;
  let inspector: Queue | undefined;
  const quiet = { warn: () => {}, error: () => {} };

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    fixture = bullmqFixture();
  });
  afterEach(async () => {
    await inspector?.close();
    inspector = undefined;
    await fixture.cleanup();
  });

  /** BullMQ's own view of a queue, as an operator's dashboard would have it. */
  function inspect(queue: string): Queue {
    inspector = new Queue(queue, { connection: admin, prefix: `${fixture.prefix}jobs` });
    return inspector;
  }

  it('keeps a completed job, and one that failed for good with its reason, for inspection', async () => {
    const q = await fixture.open({ attempts: 2, backoffMs: 10, logger: quiet });
    q.process('finalise', async (job) => {
      if (job.id === 'bad') throw new Error('the file is unreadable');
    });
    await q.add('finalise', { recordingId: 'good' }, { jobId: 'good' });
    await q.add('finalise', { recordingId: 'bad' }, { jobId: 'bad' });
    const bullmq = inspect('finalise');

    await expect
      .poll(() => bullmq.getJobCounts('completed', 'failed'))
      .toEqual({
        completed: 1,
        failed: 1,
      });
    const [completed] = await bullmq.getCompleted();
    expect(completed).toMatchObject({ deduplicationId: 'good', data: { recordingId: 'good' } });
    const [failed] = await bullmq.getFailed();
    expect(failed).toMatchObject({
      deduplicationId: 'bad',
      attemptsMade: 2,
      failedReason: 'the file is unreadable',
    });
  });

  it('puts every key under its prefix and names its connections', async () => {
    const q = await fixture.open();
    const [work, sweep] = [`work-${Date.now()}`, `sweep-${Date.now()}`];
    q.process(work, async () => {});
    await q.add(work, {});
    await q.repeat(sweep, 60_000);
    const keys = [...(await admin.keys(`*${work}*`)), ...(await admin.keys(`*${sweep}*`))];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(`${fixture.prefix}jobs:`))).toEqual([]);
    const clients = String(await admin.client('LIST'));
    expect(clients).toContain(` name=${fixture.prefix}jobs-cmd `);
    expect(clients).toContain(` name=${fixture.prefix}jobs-work `);
  });

  it('opens no connection until it is used', async () => {
    await fixture.open();
    const clients = String(await admin.client('LIST'));
    expect(clients).not.toContain(fixture.prefix);
  });
});
