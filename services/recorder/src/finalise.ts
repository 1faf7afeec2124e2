import { createHash } from 'node:crypto';
import type { RecordingBus } from '@sallyport/bus';
import type { PrismaClient } from '@sallyport/db';
import type { Job } from '@sallyport/jobs';
import type { RecordingStore } from '@sallyport/recording';
import type { RecorderMetrics } from './metrics.js';

/** The job queue of finalisations, one job per recording (its id is the job's id). */
export const FINALISE_QUEUE = 'recording-finalise';

/** The recording a finalisation job is for; a job without one fails, and says so. */
export function recordingIdOf(job: Job): string {
  const { recordingId } = job.data;
  if (typeof recordingId !== 'string' || recordingId === '')
    throw new Error(`finalisation job ${job.id} names no recording`);
  return recordingId;
}

/**
 * The finalisation job: the final chunk is on disk and checkpointed; now fix the file's digest
 * in the database and drop the session's record stream. Idempotent: a job run twice (its first
 * run's worker died before the job was marked done) finds the digest set and only deletes the
 * stream again.
 */
export async function finaliseRecording(
  recordingId: string,
  deps: {
    prisma: PrismaClient;
    store: RecordingStore;
    recordingBus: RecordingBus;
    metrics: RecorderMetrics;
  },
): Promise<void> {
  const row = await deps.prisma.recording.findUnique({ where: { id: recordingId } });
  if (!row || row.status === 'recording') return; // deleted meanwhile, or not finished: nothing to do
  if (!row.digest) {
    const digest = createHash('sha256');
    for await (const data of deps.store.read(row.id, Number(row.sizeBytes)))
      digest.update(data as Buffer);
    const updated = await deps.prisma.recording.updateMany({
      where: { id: row.id, digest: null },
      data: { digest: digest.digest('hex') },
    });
    if (updated.count > 0) deps.metrics.finalised.inc({ status: row.status });
  }
  await deps.recordingBus.deleteStream(row.sessionId);
}
