import type { RecordingRequest } from '@sallyport/bus';
import type { Recording } from '@sallyport/db';
import type { JobQueue } from '@sallyport/jobs';
import type { Registry } from '@sallyport/observability';
import { FINALISE_QUEUE, finaliseRecording, recordingIdOf } from './finalise.js';
import { createRecorderMetrics } from './metrics.js';
import { RETENTION_QUEUE, sweepRecordings } from './retention.js';
import { SessionRecording, type RecordingServices } from './session-recording.js';

export interface RecorderOptions {
  /** Unique among recorders; holds the leases of the sessions it records. */
  recorderId: string;
  /** A recorder recording this many sessions leaves new ones to others. */
  maxSessions: number;
  /** Plaintext bytes per encrypted chunk. */
  chunkBytes: number;
  /** Finished recordings older than this many days are deleted; 0 keeps them. */
  retentionDays: number;
  /** A chunk is sealed at least this often while output flows. Default 1 000 ms. */
  flushIntervalMs?: number;
  /** How often recordings that no recorder holds are looked for. Default the lease ttl. */
  adoptIntervalMs?: number;
  /** How often the retention job runs, on one recorder of all. Default 1 hour. */
  retentionIntervalMs?: number;
}

export interface RecorderDeps extends RecordingServices {
  registry: Registry;
  /** Runs finalisation and the retention job (BullMQ in distributed mode). */
  jobs: JobQueue;
  clock?: () => Date;
}

export interface Recorder {
  readonly sessionCount: number;
  /** Runs the retention job now (it also runs on its own every retentionIntervalMs). */
  sweep(): Promise<{ expired: number; orphans: number }>;
  /** Stops taking work and lets go of its recordings, for other recorders to carry on. */
  stop(): Promise<void>;
}

const ADOPT_BATCH = 100;
const STOP_GRACE_MS = 2_000;
// Finalising reads a whole file: a few at once keep a burst of ended sessions from queueing
// behind one large recording.
const FINALISE_CONCURRENCY = 4;

/**
 * The recorder service: takes recording requests from the bus while it has room, records each
 * session (SessionRecording), adopts recordings whose recorder died, runs the finalisation
 * jobs, and the retention job.
 */
export function startRecorder(options: RecorderOptions, deps: RecorderDeps): Recorder {
  const { recordingBus, prisma, log, jobs } = deps;
  const metrics = createRecorderMetrics(deps.registry);
  const now = deps.clock ?? (() => new Date());
  const tasks = new Map<string, { recording: SessionRecording; done: Promise<void> }>();
  let starting = 0;
  let stopped = false;
  const hasCapacity = () => !stopped && tasks.size + starting < options.maxSessions;
  const taskDeps = {
    ...deps,
    recorderId: options.recorderId,
    metrics,
    chunkBytes: options.chunkBytes,
    flushIntervalMs: options.flushIntervalMs ?? 1_000,
  };

  /** The recording's row, created by the first recorder to see the request. */
  async function rowFor(request: RecordingRequest): Promise<Recording> {
    const existing = await prisma.recording.findUnique({ where: { sessionId: request.sessionId } });
    if (existing) return existing;
    try {
      return await prisma.recording.create({
        data: {
          sessionId: request.sessionId,
          userId: request.userId,
          username: request.username,
          serverId: request.serverId,
          serverName: request.serverName,
          mode: request.mode,
          recordsInput: request.recordInput,
          keyId: deps.keyring.currentKeyId,
          cols: request.cols,
          rows: request.rows,
          startedAt: new Date(request.startedAt),
        },
      });
    } catch (err) {
      // Two recorders raced on a redelivered request: the other one's row is the row.
      if ((err as { code?: string }).code !== 'P2002') throw err;
      return prisma.recording.findUniqueOrThrow({ where: { sessionId: request.sessionId } });
    }
  }

  /** Deduplicated while pending: a finalisation asked for twice runs once. */
  const requestFinalisation = (recordingId: string) =>
    jobs.add(FINALISE_QUEUE, { recordingId }, { jobId: recordingId });

  async function adopt(row: Recording): Promise<void> {
    // A finished recording (its request delivered again) must never be written to again.
    if (stopped || row.status !== 'recording' || tasks.has(row.sessionId)) return;
    if (!(await recordingBus.claimSession(row.sessionId, options.recorderId))) return;
    const recording = new SessionRecording(row, taskDeps);
    metrics.active.inc();
    const done = recording
      .run()
      .then(async (outcome) => {
        if (outcome) await requestFinalisation(row.id);
      })
      .catch((err: unknown) => log.error({ err, recordingId: row.id }, 'recording failed'))
      .finally(async () => {
        tasks.delete(row.sessionId);
        metrics.active.dec();
        // Let go at once, so a recording this process gives up is taken over without waiting.
        await recordingBus
          .releaseSession(row.sessionId, options.recorderId)
          .catch((err: unknown) => log.warn({ err }, 'could not release a recording lease'));
        requests.wake();
      });
    tasks.set(row.sessionId, { recording, done });
  }

  const requests = recordingBus.serveRecordingRequests({
    recorderId: options.recorderId,
    hasCapacity,
    handler: async (request) => {
      starting += 1;
      try {
        await adopt(await rowFor(request));
      } finally {
        starting -= 1;
      }
    },
    onError: (err) => log.warn({ err }, 'recording request failed'),
  });

  const sweep = () =>
    sweepRecordings({
      prisma,
      store: deps.store,
      log,
      retentionDays: options.retentionDays,
      now: now(),
    });
  const jobWorkers = [
    jobs.process(
      FINALISE_QUEUE,
      (job) => finaliseRecording(recordingIdOf(job), { ...deps, metrics }),
      { concurrency: FINALISE_CONCURRENCY },
    ),
    jobs.process(RETENTION_QUEUE, async () => {
      log.info(await sweep(), 'retention job done');
    }),
  ];
  // Every recorder schedules it; the job queue keeps one schedule and runs it on one of them.
  void jobs
    .repeat(RETENTION_QUEUE, options.retentionIntervalMs ?? 3600_000)
    .catch((err: unknown) => log.error({ err }, 'could not schedule the retention job'));

  /**
   * Recordings left by a recorder that died, and finished ones whose finalisation was lost (in
   * embedded mode the job queue is in memory, and a crash loses what it held).
   */
  async function adoptOrphans(): Promise<void> {
    const open = await prisma.recording.findMany({
      where: { OR: [{ status: 'recording' }, { digest: null }] },
      orderBy: { startedAt: 'asc' },
      take: ADOPT_BATCH,
    });
    if (open.length === 0) return;
    const holders = await recordingBus.sessionRecorders(open.map((r) => r.sessionId));
    for (const [i, row] of open.entries()) {
      if (holders[i] || tasks.has(row.sessionId)) continue;
      if (row.status !== 'recording') await requestFinalisation(row.id);
      else if (hasCapacity()) await adopt(row);
    }
  }

  const timer = setInterval(
    () =>
      void adoptOrphans().catch((err: unknown) =>
        log.warn({ err }, 'could not look for recordings to adopt'),
      ),
    options.adoptIntervalMs ?? recordingBus.leaseTtlMs,
  );
  timer.unref();
  log.info({ recorderId: options.recorderId }, 'recorder taking recordings');

  let stopping: Promise<void> | undefined;
  return {
    get sessionCount() {
      return tasks.size;
    },
    sweep,
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        await requests.stop();
        // Sessions that have just ended (a worker stopping with us) get a moment to be sealed.
        const grace = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
        await Promise.race([Promise.all([...tasks.values()].map((t) => t.done)), grace]);
        for (const { recording } of tasks.values()) recording.stop();
        await Promise.all([...tasks.values()].map((t) => t.done));
        // Last, so the finalisations those sessions asked for can still run here.
        await Promise.all(jobWorkers.map((worker) => worker.close()));
        log.info('recorder stopped');
      })()),
  };
}
