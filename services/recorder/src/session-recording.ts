import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { RecordingBus, RecordReader, RecordingRequest, SessionBus } from '@sallyport/bus';
import type { Keyring } from '@sallyport/crypto';
import { appendAuditEvent, type Prisma, type PrismaClient, type Recording } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import {
  CastEncoder,
  castHeader,
  fileHeader,
  initialCastState,
  recordingKeyPurpose,
  sealChunk,
  type CastState,
  type RecordingStore,
} from '@sallyport/recording';
import type { RecorderMetrics } from './metrics.js';

const gzip = promisify(gzipCallback);

/** The services a recorder works with (see RecorderDeps). */
export interface RecordingServices {
  recordingBus: RecordingBus;
  /** For the sessions' owner leases: a lapsed one without an end means the worker died. */
  sessionBus: SessionBus;
  prisma: PrismaClient;
  keyring: Keyring;
  store: RecordingStore;
  log: Logger;
}

export interface SessionRecordingDeps extends RecordingServices {
  recorderId: string;
  metrics: RecorderMetrics;
  /** Plaintext bytes buffered before a chunk is sealed. */
  chunkBytes: number;
  /** A chunk is sealed at least this often while output flows. */
  flushIntervalMs: number;
}

/** The checkpoint beyond the chunk chain: the encoder's state and the last stream entry kept. */
interface Resume extends CastState {
  lastEntryId: string | null;
}

const READ_BATCH = 256;
const POLL_MIN_MS = 20;
const POLL_MAX_MS = 250;
const OWNER_CHECK_MS = 1_000;
const STORE_RETRY_MS = 1_000;

/** What a finished recording's row says about it, besides being finished. */
type Outcome = { status: 'complete' | 'incomplete'; note?: string };

/**
 * Records one session, from its record stream to the store, while this recorder holds the
 * session's lease. Output is gathered into chunks; each chunk is sealed (gzip, then encrypted
 * and chained to the previous one), appended and synced, then checkpointed in the database,
 * and only then are its stream entries acknowledged. Whatever happens in between (a crash, a
 * lost lease) the next recorder resumes from the checkpoint: bytes past it are cut off the
 * file and the unacknowledged entries are read again, duplicates dropped.
 */
export class SessionRecording {
  private readonly log: Logger;
  private readonly encoder: CastEncoder;
  private readonly resume: Resume;
  private readonly key: Buffer;
  private readonly reader: RecordReader;
  private prevTag: Buffer;
  private chunks: number;
  private size: number;
  private gaps: number;
  private lines: string[] = [];
  private bufferedBytes = 0;
  private bufferedSince = 0;
  private entryIds: string[] = [];
  /** Best-effort mode: the store failed; this describes the stretch lost so far. */
  private storeGap: { from: number; reason: string } | undefined;
  private strictFailureReported = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly row: Recording,
    private readonly deps: SessionRecordingDeps,
  ) {
    this.log = deps.log.child({ sessionId: row.sessionId, recordingId: row.id });
    this.resume = { ...initialCastState(), lastEntryId: null, ...(row.resume as Partial<Resume>) };
    this.encoder = new CastEncoder(row.startedAt.getTime(), this.resume);
    this.key = deps.keyring.deriveKey(recordingKeyPurpose(row.id), row.keyId);
    this.prevTag = row.lastTag
      ? Buffer.from(row.lastTag, 'base64')
      : fileHeader(row.keyId, row.id).anchor;
    this.chunks = row.chunks;
    this.size = Number(row.sizeBytes);
    this.gaps = row.gaps;
    this.reader = deps.recordingBus.reader(row.sessionId, deps.recorderId);
    const ttl = deps.recordingBus.leaseTtlMs;
    this.renewTimer = setInterval(() => void this.renewLease(), Math.floor(ttl / 3));
  }

  /** Stop reading (shutdown, or the lease was lost); unacknowledged entries stay for another. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Records until the session ends (then the final chunk is on disk) or stop(). */
  async run(): Promise<Outcome | undefined> {
    try {
      // Bytes written after the last checkpoint belong to no chunk the row vouches for.
      await this.deps.store.truncate(this.row.id, this.size).catch((err: unknown) => {
        this.log.warn({ err }, 'could not cut the recording back to its checkpoint');
      });
      return await this.loop();
    } finally {
      clearInterval(this.renewTimer);
    }
  }

  private async loop(): Promise<Outcome | undefined> {
    let idleMs = POLL_MIN_MS;
    let ownerCheckedAt = Date.now();
    let ownerGone = false;
    while (!this.stopped) {
      if (this.storeFailing()) {
        // Strict mode keeps what it has and retries; nothing more is read meanwhile.
        await this.pause(STORE_RETRY_MS);
        await this.commit(this.pendingOutcome);
        if (this.pendingOutcome && !this.storeFailing()) return this.pendingOutcome;
        continue;
      }
      const entries = await this.reader.read(READ_BATCH);
      for (const { id, event } of entries) {
        this.entryIds.push(id);
        if (this.resume.lastEntryId && !entryAfter(id, this.resume.lastEntryId)) continue;
        this.resume.lastEntryId = id;
        const { lines, missing } = this.encoder.encode(event);
        if (missing > 0) await this.noteGap('bus', `${missing} events never reached the recorder`);
        this.buffer(lines);
        if (event.type === 'end') this.pendingOutcome = { status: 'complete' };
        else if (this.bufferedBytes >= this.deps.chunkBytes && !this.storeFailing())
          await this.commit(undefined);
      }
      if (entries.length > 0) {
        idleMs = POLL_MIN_MS;
        ownerGone = false;
      } else if (Date.now() - ownerCheckedAt >= OWNER_CHECK_MS) {
        ownerCheckedAt = Date.now();
        // The end event comes before the worker lets go of its lease; so a lapsed lease with
        // nothing left to read (checked twice, to let a last append land) means it died.
        const [owner] = await this.deps.sessionBus.owners([this.row.sessionId]);
        if (owner) ownerGone = false;
        else if (ownerGone)
          this.pendingOutcome = {
            status: 'incomplete',
            note: "recording incomplete: the session's worker was lost",
          };
        else ownerGone = true;
      }
      const due =
        this.pendingOutcome !== undefined ||
        this.bufferedBytes >= this.deps.chunkBytes ||
        (this.lines.length > 0 && Date.now() - this.bufferedSince >= this.deps.flushIntervalMs);
      if (due) await this.commit(this.pendingOutcome);
      if (this.pendingOutcome && !this.storeFailing()) return this.pendingOutcome;
      if (entries.length === 0) {
        await this.pause(idleMs);
        idleMs = Math.min(POLL_MAX_MS, idleMs * 2);
      }
    }
    return undefined;
  }

  private pendingOutcome: Outcome | undefined;

  private buffer(lines: string[]): void {
    if (lines.length === 0) return;
    if (this.lines.length === 0) this.bufferedSince = Date.now();
    for (const line of lines) {
      this.lines.push(line);
      this.bufferedBytes += line.length + 1;
    }
  }

  /** Seals what is buffered into the next chunk (the final one with `outcome`), writes it, checkpoints. */
  private async commit(outcome: Outcome | undefined): Promise<void> {
    if (this.lines.length === 0 && !outcome) {
      await this.ackRead();
      return;
    }
    const lines = [
      ...(this.chunks === 0 ? [castHeader(this.request())] : []),
      ...(this.storeGap ? [this.gapMarker(this.storeGap)] : []),
      ...this.lines,
      ...(outcome?.note ? [this.encoder.marker(outcome.note)] : []),
    ];
    const { frame, tag } = sealChunk(
      this.key,
      this.chunks,
      this.prevTag,
      await gzip(Buffer.from(lines.join('\n') + '\n', 'utf8')),
      outcome !== undefined,
    );
    const bytes = this.chunks === 0 ? Buffer.concat([this.fileHeader(), frame]) : frame;
    try {
      await this.deps.store.append(this.row.id, bytes);
    } catch (err) {
      await this.storeFailed(err);
      return;
    }
    this.deps.metrics.bytes.inc(bytes.length);
    this.chunks += 1;
    this.size += bytes.length;
    this.prevTag = tag;
    this.storeGap = undefined;
    this.strictFailureReported = false;
    this.lines = [];
    this.bufferedBytes = 0;
    await this.deps.prisma.recording.update({
      where: { id: this.row.id },
      data: {
        chunks: this.chunks,
        sizeBytes: BigInt(this.size),
        lastTag: tag.toString('base64'),
        resume: this.resume as unknown as Prisma.InputJsonObject,
        durationMs: Math.round(this.resume.lastTime * 1000),
        gaps: this.gaps,
        ...(outcome ? { status: outcome.status, endedAt: new Date() } : {}),
      },
    });
    await this.ackRead();
  }

  private async ackRead(): Promise<void> {
    const ids = this.entryIds;
    this.entryIds = [];
    await this.reader.ack(ids);
  }

  private storeFailing(): boolean {
    return this.strictFailureReported;
  }

  /**
   * Best-effort: drop what could not be written (acknowledging it, so the session is not held
   * back) and remember the gap, to mark it in the recording once the store works again.
   * Strict: keep it all, tell the worker (which ends the session), and retry.
   */
  private async storeFailed(err: unknown): Promise<void> {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    this.deps.metrics.storeFailures.inc();
    this.log.warn({ err }, 'could not write to the recording store');
    if (this.row.mode === 'strict') {
      if (this.strictFailureReported) return;
      this.strictFailureReported = true;
      const message = `its recording could not be stored (${reason}), and the recording policy is strict`;
      await this.audit('recording.failed', { reason });
      await this.deps.recordingBus.reportFailure(this.row.sessionId, message);
      return;
    }
    if (!this.storeGap) {
      this.storeGap = { from: this.resume.lastTime, reason };
      await this.noteGap('store', reason);
    }
    this.lines = [];
    this.bufferedBytes = 0;
    await this.ackRead();
  }

  /** Counted in the row at once (not at the next checkpoint): the gap shows while it lasts. */
  private async noteGap(cause: 'store' | 'bus', reason: string): Promise<void> {
    this.gaps += 1;
    this.deps.metrics.gaps.inc({ cause });
    await this.deps.prisma.recording.update({
      where: { id: this.row.id },
      data: { gaps: this.gaps },
    });
    await this.audit('recording.gap', { cause, reason, atSeconds: this.resume.lastTime });
  }

  private gapMarker(gap: { from: number; reason: string }): string {
    return this.encoder.marker(
      `gap: output from ${gap.from}s to ${this.resume.lastTime}s could not be stored (${gap.reason})`,
    );
  }

  private request(): RecordingRequest {
    const { row } = this;
    return {
      sessionId: row.sessionId,
      userId: row.userId,
      username: row.username,
      serverId: row.serverId ?? '',
      serverName: row.serverName,
      cols: row.cols,
      rows: row.rows,
      startedAt: row.startedAt.getTime(),
      mode: row.mode === 'strict' ? 'strict' : 'best_effort',
      recordInput: row.recordsInput,
    };
  }

  private fileHeader(): Buffer {
    return fileHeader(this.row.keyId, this.row.id).bytes;
  }

  private async renewLease(): Promise<void> {
    try {
      const held = await this.deps.recordingBus.renewSession(
        this.row.sessionId,
        this.deps.recorderId,
      );
      if (!held) {
        this.log.warn('lost the lease on a recording; another recorder carries on');
        this.stop();
      }
    } catch (err) {
      this.log.warn({ err }, 'could not renew the recording lease');
    }
  }

  private async audit(action: string, details: Record<string, unknown>): Promise<void> {
    try {
      await appendAuditEvent(this.deps.prisma, {
        actorName: 'recorder',
        action,
        targetType: 'recording',
        targetId: this.row.id,
        serverId: this.row.serverId,
        sessionId: this.row.sessionId,
        details,
      });
    } catch (err) {
      this.log.error({ err, action }, 'could not write an audit event');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * Stream entry ids increase: Redis's are "<ms>-<n>", the memory transport's are counters.
 * Compared part by part as numbers.
 */
export function entryAfter(id: string, than: string): boolean {
  const a = id.split('-').map(Number);
  const b = than.split('-').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}
