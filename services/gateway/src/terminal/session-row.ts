import type { PrismaClient } from '@sallyport/db';

export interface NewSessionRow {
  id: string;
  userId: string;
  serverId: string;
  cols: number;
  rows: number;
  clientIp: string;
}

export interface SessionLimits {
  /** Sessions one user may have pending or active. */
  maxPerUser: number;
  /** Sessions everyone together may have pending or active. */
  maxTotal: number;
}

export type SessionRowResult =
  { created: true; serverName: string } | { created: false; message: string };

/**
 * Writes a new terminal session's row, unless its server is gone or a session limit is reached,
 * and says which. One call of `open_terminal_session` (a function in the migrations): every new
 * terminal waits for it, so the checks and the insert are one round trip, and opens that arrive
 * together take turns on a lock in it, so they cannot pass a limit between them.
 */
export async function insertSessionRow(
  prisma: PrismaClient,
  row: NewSessionRow,
  limits: SessionLimits,
): Promise<SessionRowResult> {
  const [result] = await prisma.$queryRaw<[RowOutcome]>`
    SELECT server_name AS "serverName", mine, total, created
    FROM open_terminal_session(
      ${row.id}::uuid, ${row.userId}::uuid, ${row.serverId}::uuid, ${row.cols}::int,
      ${row.rows}::int, ${row.clientIp}::text, ${limits.maxPerUser}::int, ${limits.maxTotal}::int
    )`;
  const { serverName, mine, total, created } = result;
  if (serverName === null) return { created: false, message: 'server not found' };
  if (created) return { created: true, serverName };
  if (mine >= limits.maxPerUser) {
    const sessions = mine === 1 ? 'session' : 'sessions';
    return { created: false, message: `you already have ${mine} open ${sessions}; end one first` };
  }
  if (total >= limits.maxTotal)
    return { created: false, message: 'Sallyport is at its session limit; try again later' };
  throw new Error('the session row was not written, and no check refused it');
}

interface RowOutcome {
  serverName: string | null;
  mine: number;
  total: number;
  created: boolean;
}
