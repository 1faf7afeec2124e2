import { createHash } from 'node:crypto';
import type { AuditEvent, Prisma, PrismaClient } from './generated/prisma/client.js';

/** One thing someone did, as the caller describes it; `at`, `seq` and the hashes are added here. */
export interface AuditEventInput {
  actorId?: string | null;
  actorName: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  serverId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  /** Must be JSON-serialisable; stored as it reads back after a JSON round trip. */
  details?: Record<string, unknown> | null;
}

/** Collaborators of `appendAuditEvent`, injectable for tests. */
export interface AppendAuditOptions {
  /** Clock for the event's `at`. Default: `new Date()`. */
  now?: () => Date;
}

/** Result of `verifyAuditChain`. */
export type AuditChainVerdict = { ok: true; count: number } | { ok: false; brokenAtSeq: bigint };

const VERIFY_BATCH = 1000;

/** The fields covered by an event's hash, exactly as they are stored. */
type HashedFields = Pick<
  AuditEvent,
  | 'actorId'
  | 'actorName'
  | 'action'
  | 'targetType'
  | 'targetId'
  | 'serverId'
  | 'sessionId'
  | 'ip'
  | 'details'
  | 'at'
>;

/**
 * Appends an event to the hash chain, in one round trip: `append_audit_event` (a function in the
 * migrations) takes the writers of every process in turn on an advisory lock, so that each one
 * links to the true latest hash and the chain never forks. It hashes the previous hash followed
 * by the canonical JSON given here, as `auditEventHash` does.
 */
export async function appendAuditEvent(
  prisma: PrismaClient,
  event: AuditEventInput,
  options: AppendAuditOptions = {},
): Promise<AuditEvent> {
  const now = options.now ?? (() => new Date());
  // Hash what the database will give back, not what the caller passed: a JSON round trip
  // drops undefined values and turns Dates into strings, exactly as storing it does.
  const details =
    event.details == null ? null : (JSON.parse(JSON.stringify(event.details)) as Prisma.JsonObject);
  // Likewise a UUID, which PostgreSQL gives back in lower case whatever case it was given in.
  const uuid = (id: string | null | undefined) => id?.toLowerCase() ?? null;
  const fields: HashedFields = {
    actorId: uuid(event.actorId),
    actorName: event.actorName,
    action: event.action,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    serverId: uuid(event.serverId),
    sessionId: uuid(event.sessionId),
    ip: event.ip ?? null,
    details,
    at: now(),
  };
  const [appended] = await prisma.$queryRaw<AuditEvent[]>`
    SELECT "seq", "at", "actor_id" AS "actorId", "actor_name" AS "actorName", "action",
      "target_type" AS "targetType", "target_id" AS "targetId", "server_id" AS "serverId",
      "session_id" AS "sessionId", "ip", "details", "prev_hash" AS "prevHash", "hash"
    FROM append_audit_event(
      ${fields.at}::timestamptz, ${fields.actorId}::uuid, ${fields.actorName}::text,
      ${fields.action}::text, ${fields.targetType}::text, ${fields.targetId}::text,
      ${fields.serverId}::uuid, ${fields.sessionId}::uuid, ${fields.ip}::text,
      ${details === null ? null : JSON.stringify(details)}::jsonb, ${canonicalFields(fields)}::text
    )`;
  if (!appended) throw new Error('append_audit_event returned no event');
  return appended;
}

/** Recomputes every link of the chain in order; reports the first event that does not fit. */
export async function verifyAuditChain(prisma: PrismaClient): Promise<AuditChainVerdict> {
  let prevHash = '';
  let count = 0;
  let after: bigint | undefined;
  for (;;) {
    const rows = await prisma.auditEvent.findMany({
      where: after === undefined ? {} : { seq: { gt: after } },
      orderBy: { seq: 'asc' },
      take: VERIFY_BATCH,
    });
    for (const row of rows) {
      if (row.prevHash !== prevHash || auditEventHash(prevHash, row) !== row.hash) {
        return { ok: false, brokenAtSeq: row.seq };
      }
      prevHash = row.hash;
      count += 1;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < VERIFY_BATCH) return { ok: true, count };
    after = last.seq;
  }
}

/** sha256 hex of the previous hash followed by the canonical JSON of the event's fields. */
export function auditEventHash(prevHash: string, event: HashedFields): string {
  return createHash('sha256').update(prevHash).update(canonicalFields(event)).digest('hex');
}

/** The canonical JSON of the fields an event's hash covers. */
function canonicalFields(event: HashedFields): string {
  return canonicalJson({
    actorId: event.actorId,
    actorName: event.actorName,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    serverId: event.serverId,
    sessionId: event.sessionId,
    ip: event.ip,
    details: event.details,
    at: event.at.toISOString(),
  });
}

/** JSON with object keys sorted at every depth, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
