import { appendAuditEvent, type PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import type { RecordingStore } from '@sallyport/recording';

/** The job queue of the retention job, which every recorder schedules and one runs each time. */
export const RETENTION_QUEUE = 'recording-retention';

/** A file younger than this is never an orphan: its row may be about to be written. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;
const BATCH = 200;

/**
 * The retention job: deletes finished recordings older than `retentionDays` (0 keeps them),
 * files and rows, and files in the store that no row refers to. Safe to run twice.
 */
export async function sweepRecordings(deps: {
  prisma: PrismaClient;
  store: RecordingStore;
  log: Logger;
  retentionDays: number;
  now: Date;
}): Promise<{ expired: number; orphans: number }> {
  const { prisma, store, log } = deps;
  let expired = 0;
  if (deps.retentionDays > 0) {
    const before = new Date(deps.now.getTime() - deps.retentionDays * 24 * 3600 * 1000);
    for (;;) {
      const old = await prisma.recording.findMany({
        where: { startedAt: { lt: before }, status: { not: 'recording' } },
        take: BATCH,
      });
      for (const row of old) {
        await store.remove(row.id);
        await prisma.recording.delete({ where: { id: row.id } }).catch(() => undefined);
        await appendAuditEvent(prisma, {
          actorName: 'retention',
          action: 'recording.deleted',
          targetType: 'recording',
          targetId: row.id,
          serverId: row.serverId,
          sessionId: row.sessionId,
          details: { reason: 'retention', retentionDays: deps.retentionDays },
        });
      }
      expired += old.length;
      if (old.length < BATCH) break;
    }
  }
  let orphans = 0;
  let candidates: string[] = [];
  const removeOrphans = async (): Promise<void> => {
    const known = await prisma.recording.findMany({
      where: { id: { in: candidates } },
      select: { id: true },
    });
    const keep = new Set(known.map((r) => r.id));
    for (const id of candidates.filter((c) => !keep.has(c))) {
      await store.remove(id);
      orphans += 1;
      log.info({ recordingId: id }, 'deleted a recording file with no database row');
    }
    candidates = [];
  };
  for await (const file of store.list()) {
    if (deps.now.getTime() - file.modifiedAt.getTime() < ORPHAN_GRACE_MS) continue;
    candidates.push(file.recordingId);
    if (candidates.length >= BATCH) await removeOrphans();
  }
  if (candidates.length > 0) await removeOrphans();
  return { expired, orphans };
}
