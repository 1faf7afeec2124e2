// The recorder in-process, on the in-memory bus, PGlite and a temporary directory: recording,
// finalisation and the retention job, driven the way a session worker and time would drive them.
// Finalisation runs on the in-memory job queue, and on BullMQ against the test Redis.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RecordingBus,
  SessionBus,
  createMemoryTransport,
  type RecordingRequest,
  type Transport,
} from '@sallyport/bus';
import { Keyring, generateKey } from '@sallyport/crypto';
import { openDatabase, type Database } from '@sallyport/db';
import { createBullmqJobQueue, createMemoryJobQueue, type JobQueue } from '@sallyport/jobs';
import { createLogger } from '@sallyport/log';
import { createRegistry } from '@sallyport/observability';
import {
  DirectoryRecordingStore,
  RecordingReader,
  castEvents,
  castLines,
  type CastEvent,
  type RecordingStore,
} from '@sallyport/recording';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../tests/harness/redis.js';
import { startRecorder, type Recorder } from './recorder.js';

let db: Database;
let transport: Transport;
let dir: string;
let now: Date;
/** What afterEach undoes, last first: each recorder stops before its job queue closes. */
let stops: (() => Promise<unknown>)[] = [];
const keyring = new Keyring(generateKey());
const log = createLogger('recorder-test', { level: 'fatal' });

beforeEach(async () => {
  db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  transport = createMemoryTransport();
  dir = await mkdtemp(path.join(tmpdir(), 'sallyport-recorder-test-'));
  now = new Date();
});

afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
  await transport.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A recorder on the shared bus, database and directory, with its own job queue. */
function start(
  jobs: JobQueue,
  { recorderId = 'r1', store }: { recorderId?: string; store?: RecordingStore } = {},
): Recorder {
  const recorder = startRecorder(
    { recorderId, maxSessions: 10, chunkBytes: 256, retentionDays: 30, flushIntervalMs: 50 },
    {
      recordingBus: new RecordingBus(transport),
      sessionBus: new SessionBus(transport),
      prisma: db.prisma,
      keyring,
      store: store ?? new DirectoryRecordingStore(dir),
      jobs,
      log,
      registry: createRegistry({ service: 'recorder-test' }),
      clock: () => now,
    },
  );
  stops.push(
    () => jobs.close(),
    () => recorder.stop(),
  );
  return recorder;
}

/** A session as a worker starts it: its row, its owner lease, and a recording request. */
async function startSession(): Promise<RecordingRequest> {
  const user = await db.prisma.user.create({ data: { username: `u-${Math.random()}` } });
  const session = await db.prisma.terminalSession.create({
    data: { userId: user.id, cols: 80, rows: 24 },
  });
  await new SessionBus(transport).claimOwnership(session.id, 'worker-1');
  const request: RecordingRequest = {
    sessionId: session.id,
    userId: user.id,
    username: user.username,
    serverId: '00000000-0000-4000-8000-000000000001',
    serverName: 'db-1',
    cols: 80,
    rows: 24,
    startedAt: Date.now(),
    mode: 'best_effort',
    recordInput: false,
  };
  await new RecordingBus(transport).requestRecording(request);
  return request;
}

const endSession = (sessionId: string) =>
  new RecordingBus(transport).append(sessionId, {
    type: 'end',
    at: Date.now(),
    reason: 'exit',
    message: 'bye',
  });

/** Waits until the session's recording is finalised: its digest is set. */
const finished = (sessionId: string, timeout = 10_000) =>
  expect
    .poll(
      () => db.prisma.recording.findUnique({ where: { sessionId } }).then((r) => r?.digest ?? null),
      { timeout },
    )
    .not.toBeNull();

async function eventsOf(sessionId: string): Promise<CastEvent[]> {
  const row = await db.prisma.recording.findUniqueOrThrow({ where: { sessionId } });
  const events: CastEvent[] = [];
  const reader = new RecordingReader(new DirectoryRecordingStore(dir), keyring);
  for await (const event of castEvents(castLines(reader.cast(row)))) events.push(event);
  return events;
}

describe('the recorder', () => {
  let recorder: Recorder;
  beforeEach(() => {
    recorder = start(createMemoryJobQueue({ logger: log }));
  });

  it('records a session in several chunks, keeping a character split between events whole', async () => {
    const { sessionId } = await startSession();
    const bus = new RecordingBus(transport);
    const euro = Buffer.from('€');
    const at = Date.now();
    const lines = Array.from({ length: 40 }, (_, i) => Buffer.from(`line ${i}\r\n`));
    let seq = 0;
    for (const data of lines) await bus.append(sessionId, { type: 'output', seq: ++seq, at, data });
    await bus.append(sessionId, { type: 'output', seq: ++seq, at, data: euro.subarray(0, 1) });
    await bus.append(sessionId, { type: 'output', seq: ++seq, at, data: euro.subarray(1) });
    await bus.append(sessionId, { type: 'resize', seq: ++seq, at, cols: 90, rows: 30 });
    await bus.append(sessionId, { type: 'end', at, reason: 'exit', message: 'bye' });
    await finished(sessionId);

    const row = await db.prisma.recording.findUniqueOrThrow({ where: { sessionId } });
    expect(row).toMatchObject({ status: 'complete', gaps: 0 });
    expect(row.chunks).toBeGreaterThan(1);
    const events = await eventsOf(sessionId);
    const output = events.filter(([, code]) => code === 'o').map(([, , data]) => data);
    expect(output.join('')).toBe(Buffer.concat([...lines, euro]).toString('utf8'));
    expect(events.at(-1)).toEqual([expect.any(Number), 'r', '90x30']);
  });

  it('deletes recordings past the retention period and files no row refers to', async () => {
    const { sessionId } = await startSession();
    await endSession(sessionId);
    await finished(sessionId);
    const orphan = '00000000-0000-4000-8000-0000000000aa';
    const young = '00000000-0000-4000-8000-0000000000bb';
    await writeFile(path.join(dir, `${orphan}.sprec`), 'left behind');
    await writeFile(path.join(dir, `${young}.sprec`), 'being written');
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(dir, `${orphan}.sprec`), hourAgo, hourAgo);

    // Within the retention period only the orphan goes; a young file may be a new recording.
    expect(await recorder.sweep()).toEqual({ expired: 0, orphans: 1 });
    expect((await readdir(dir)).sort()).toEqual(
      [`${young}.sprec`, `${(await db.prisma.recording.findFirstOrThrow()).id}.sprec`].sort(),
    );

    now = new Date(Date.now() + 31 * 24 * 3600_000);
    expect(await recorder.sweep()).toEqual({ expired: 1, orphans: 1 });
    expect(await db.prisma.recording.count()).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    const audit = await db.prisma.auditEvent.findMany({ where: { action: 'recording.deleted' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorName: 'retention', sessionId });
  });
});

describe('the recorder on BullMQ', () => {
  // A dead recorder's job comes back once its lock lapses; BullMQ's 30 s would make this slow.
  const STALL_TIMEOUT_MS = 1_000;
  let prefix: string;
  let admin: Redis;

  beforeEach(() => {
    prefix = uniquePrefix();
    admin = new Redis(REDIS_URL);
    // Pushed first, so undone last: after every recorder and job queue is closed.
    stops.push(
      () => cleanupPrefix(prefix),
      () => admin.quit(),
    );
  });

  const bullmq = () =>
    createBullmqJobQueue({
      url: REDIS_URL,
      prefix,
      logger: log,
      closeGraceMs: 100,
      stallTimeoutMs: STALL_TIMEOUT_MS,
    });

  it('finalises through BullMQ; a finalisation whose recorder stopped mid-job is finished by another', async () => {
    // r1 reads recordings from a store whose reads never end: its finalisation gets stuck.
    const files = new DirectoryRecordingStore(dir);
    const neverEnds = new PassThrough();
    const reads: string[] = [];
    const stuckStore: RecordingStore = {
      append: (id, data) => files.append(id, data),
      truncate: (id, size) => files.truncate(id, size),
      remove: (id) => files.remove(id),
      list: () => files.list(),
      read: (id) => {
        reads.push(id);
        return neverEnds;
      },
    };
    stops.push(async () => neverEnds.destroy());
    const r1 = start(bullmq(), { recorderId: 'r1', store: stuckStore });
    const { sessionId } = await startSession();
    await endSession(sessionId);
    await expect
      .poll(() => db.prisma.recording.findUnique({ where: { sessionId } }))
      .toMatchObject({ status: 'complete', digest: null });
    const row = await db.prisma.recording.findUniqueOrThrow({ where: { sessionId } });
    await expect.poll(() => reads).toEqual([row.id]);

    start(bullmq(), { recorderId: 'r2' });
    await r1.stop(); // it gives the job up after its grace, and leaves it as a crash would
    await finished(sessionId, 20_000);

    const { digest } = await db.prisma.recording.findUniqueOrThrow({ where: { sessionId } });
    const file = await readFile(path.join(dir, `${row.id}.sprec`));
    expect(digest).toBe(createHash('sha256').update(file).digest('hex'));
    // BullMQ's own record: the one finalisation job of that recording, completed.
    const queue = new Queue('recording-finalise', { connection: admin, prefix: `${prefix}jobs` });
    try {
      const completed = (await queue.getCompleted()).filter((j) => j.deduplicationId === row.id);
      expect(completed.map((j) => j.data)).toEqual([{ recordingId: row.id }]);
      expect(await queue.getJobCounts('active', 'wait', 'delayed', 'failed')).toEqual({
        active: 0,
        wait: 0,
        delayed: 0,
        failed: 0,
      });
    } finally {
      await queue.close();
    }
  });
});
