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

// Transaction-level advisory lock that serialises audit writers across every process sharing
// the database ('SPAU' in ASCII; any constant not used elsewhere would do).
const AUDIT_LOCK_KEY = 0x53504155;
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
 * Appends an event to the hash chain. Writers from every process queue on an advisory lock
 * inside the transaction, so each one reads the true latest hash and the chain never forks.
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
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY}::bigint)`;
      // Read only after the lock: the previous holder has committed by the time we get it.
      const last = await tx.auditEvent.findFirst({
        orderBy: { seq: 'desc' },
        select: { hash: true },
      });
      const prevHash = last?.hash ?? '';
      const fields: HashedFields = {
        actorId: event.actorId ?? null,
        actorName: event.actorName,
        action: event.action,
        targetType: event.targetType ?? null,
        targetId: event.targetId ?? null,
        serverId: event.serverId ?? null,
        sessionId: event.sessionId ?? null,
        ip: event.ip ?? null,
        details,
        at: now(),
      };
      return tx.auditEvent.create({
        data: {
          ...fields,
          // Prisma stores SQL NULL for a Json field only when it is left out.
          details: details ?? undefined,
          prevHash,
          hash: auditEventHash(prevHash, fields),
        },
      });
    },
    // Generous limits: under a burst, writers wait their turn on the lock, and an audit
    // event must not be lost to Prisma's 2 s / 5 s defaults.
    { maxWait: 15_000, timeout: 15_000 },
  );
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
  const canonical = canonicalJson({
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
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
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
