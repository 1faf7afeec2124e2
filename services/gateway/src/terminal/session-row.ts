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
 * used to be two round trips in turn. Statements running at the same moment see the same counts,
 * so opens that arrive together can pass a limit by as many as they are (the connection rate
 * limit bounds them); holding a limit exactly would take a lock per user.
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
