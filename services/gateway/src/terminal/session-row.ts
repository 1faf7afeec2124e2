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
 * and says which. One statement: every new terminal waits for it, and the checks and the insert
 * used to be two round trips in turn. The counts are read before the insert, so a session opened
 * at the same moment on another replica may still slip past a limit by one.
 */
export async function insertSessionRow(
  prisma: PrismaClient,
  row: NewSessionRow,
  limits: SessionLimits,
): Promise<SessionRowResult> {
  const [result] = await prisma.$queryRaw<[RowOutcome]>`
    WITH target AS (SELECT id, name FROM servers WHERE id = ${row.serverId}::uuid),
    live AS (
      SELECT count(*) FILTER (WHERE user_id = ${row.userId}::uuid)::int AS mine,
             count(*)::int AS total
      FROM terminal_sessions WHERE status IN ('pending', 'active')
    ),
    inserted AS (
      INSERT INTO terminal_sessions (id, user_id, server_id, cols, rows, client_ip)
      SELECT ${row.id}::uuid, ${row.userId}::uuid, target.id, ${row.cols}::int, ${row.rows}::int,
             ${row.clientIp}
      FROM target, live
      WHERE live.mine < ${limits.maxPerUser}::int AND live.total < ${limits.maxTotal}::int
      RETURNING id
    )
    SELECT (SELECT name FROM target) AS "serverName", live.mine, live.total,
           EXISTS (SELECT 1 FROM inserted) AS created
    FROM live`;
  if (result.created && result.serverName !== null)
    return { created: true, serverName: result.serverName };
  if (result.serverName === null) return { created: false, message: 'server not found' };
  if (result.mine >= limits.maxPerUser) {
    const sessions = result.mine === 1 ? 'session' : 'sessions';
    return {
      created: false,
      message: `you already have ${result.mine} open ${sessions}; end one first`,
    };
  }
  return { created: false, message: 'Sallyport is at its session limit; try again later' };
}

interface RowOutcome {
  serverName: string | null;
  mine: number;
  total: number;
  created: boolean;
}
