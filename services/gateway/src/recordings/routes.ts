import { Readable } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import type { Keyring } from '@sallyport/crypto';
import type { Prisma, PrismaClient, Recording } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import {
  castEvents,
  castLines,
  castText,
  RecordingIntegrityError,
  RecordingReader,
  searchCast,
  type RecordingStore,
} from '@sallyport/recording';
import { auditRequest } from '../http/audit.js';
import type { GatewayContext, GatewayState } from '../http/context.js';
import { currentUser } from '../http/context.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { seesAllRecordings, visibleRecording } from './access.js';

const listQuery = z.object({
  serverId: z.uuid().optional(),
  userId: z.uuid().optional(),
  status: z.enum(['recording', 'complete', 'incomplete']).optional(),
  sessionId: z.uuid().optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const searchQuery = z.object({
  q: z.string().min(1, 'must not be empty').max(200),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

type Listed = Recording & { session: { participants: { user: { username: string } }[] } };

const publicRecording = (r: Listed) => ({
  id: r.id,
  sessionId: r.sessionId,
  userId: r.userId,
  username: r.username,
  serverId: r.serverId,
  serverName: r.serverName,
  participants: [r.username, ...r.session.participants.map((p) => p.user.username)],
  status: r.status,
  mode: r.mode,
  recordsInput: r.recordsInput,
  cols: r.cols,
  rows: r.rows,
  startedAt: r.startedAt,
  endedAt: r.endedAt,
  durationMs: r.durationMs,
  sizeBytes: Number(r.sizeBytes),
  gaps: r.gaps,
});

const withParticipants = {
  session: { select: { participants: { select: { user: { select: { username: true } } } } } },
} as const;

/**
 * Recordings: listing, playback (the cast, streamed), download, plain text and search. Users
 * see their own sessions' recordings, admins and auditors all; every access is audited, and a
 * recording that fails its integrity check is refused (and that is audited too).
 */
export function recordingRoutes(deps: {
  prisma: PrismaClient;
  keyring: Keyring;
  store: RecordingStore;
}): Router<GatewayState> {
  const { prisma } = deps;
  const reader = new RecordingReader(deps.store, deps.keyring);
  const router = new Router<GatewayState>({ prefix: '/api/recordings' });

  router.get('/', requireUser, async (ctx) => {
    const user = currentUser(ctx);
    const q = validate(listQuery, ctx.query);
    const where: Prisma.RecordingWhereInput = {
      ...(seesAllRecordings(user) ? (q.userId ? { userId: q.userId } : {}) : { userId: user.id }),
      ...(q.serverId ? { serverId: q.serverId } : {}),
      ...(q.sessionId ? { sessionId: q.sessionId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.from || q.to
        ? {
            startedAt: {
              ...(q.from ? { gte: new Date(q.from) } : {}),
              ...(q.to ? { lte: new Date(q.to) } : {}),
            },
          }
        : {}),
    };
    const recordings = await prisma.recording.findMany({
      where,
      include: withParticipants,
      orderBy: { startedAt: 'desc' },
      take: q.limit,
    });
    ctx.body = { recordings: recordings.map(publicRecording) };
  });

  const find = async (ctx: GatewayContext): Promise<Listed> => {
    const { id } = ctx.params as { id?: string };
    const found = await visibleRecording(prisma, id ?? '', currentUser(ctx));
    return prisma.recording.findUniqueOrThrow({
      where: { id: found.id },
      include: withParticipants,
    });
  };

  /** Checks the whole file first, so a damaged recording is refused before a byte is sent. */
  const verified = async (ctx: GatewayContext, recording: Recording): Promise<void> => {
    try {
      await reader.verify(recording);
    } catch (err) {
      if (!(err instanceof RecordingIntegrityError)) throw err;
      ctx.state.log.error({ recordingId: recording.id, detail: err.detail }, err.message);
      await audit(ctx, 'recording.integrity_failed', recording, { detail: err.detail });
      throw new AppError('integrity_failed', err.message);
    }
  };

  const audit = (
    ctx: GatewayContext,
    action: string,
    recording: Recording,
    details: Record<string, unknown> = {},
  ) =>
    auditRequest(prisma, ctx, action, {
      targetType: 'recording',
      targetId: recording.id,
      serverId: recording.serverId,
      sessionId: recording.sessionId,
      details,
    });

  /** The recording's cast, decrypted as it streams; a fault found midway aborts the response. */
  const sendCast = (ctx: GatewayContext, recording: Recording): void => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/x-asciicast';
    ctx.body = Readable.from(reader.cast(recording));
  };

  router.get('/:id', requireUser, async (ctx) => {
    ctx.body = { recording: publicRecording(await find(ctx)) };
  });

  router.get('/:id/cast', requireUser, async (ctx) => {
    const recording = await find(ctx);
    await verified(ctx, recording);
    await audit(ctx, 'recording.play', recording);
    sendCast(ctx, recording);
  });

  router.get('/:id/download', requireUser, async (ctx) => {
    const recording = await find(ctx);
    await verified(ctx, recording);
    await audit(ctx, 'recording.download', recording, { format: 'cast' });
    sendCast(ctx, recording);
    ctx.attachment(fileName(recording, 'cast'));
  });

  router.get('/:id/text', requireUser, async (ctx) => {
    const recording = await find(ctx);
    await verified(ctx, recording);
    await audit(ctx, 'recording.download', recording, { format: 'text' });
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/plain; charset=utf-8';
    ctx.attachment(fileName(recording, 'txt'));
    ctx.body = Readable.from(castText(castEvents(castLines(reader.cast(recording)))));
  });

  router.get('/:id/search', requireUser, async (ctx) => {
    const recording = await find(ctx);
    const { q, limit } = validate(searchQuery, ctx.query);
    await verified(ctx, recording);
    await audit(ctx, 'recording.search', recording, { query: q });
    ctx.body = { hits: await searchCast(castEvents(castLines(reader.cast(recording))), q, limit) };
  });

  return router;
}

/** "<server>-<start>.cast", with anything unusual in the server name replaced. */
function fileName(recording: Recording, extension: string): string {
  const server = recording.serverName.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'session';
  const started = recording.startedAt.toISOString().replace(/[:.]/g, '-');
  return `${server}-${started}.${extension}`;
}
