import type { PrismaClient, TerminalSession, User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { isUuid } from '../http/ids.js';

/**
 * A session `user` may manage: their own, or any for an admin. Anyone else gets the same 404 as
 * for a missing id. `live` also requires that it has not ended.
 */
export async function ownedSession(
  prisma: PrismaClient,
  id: string,
  user: User,
  options: { live: boolean },
): Promise<TerminalSession> {
  const session = isUuid(id) ? await prisma.terminalSession.findUnique({ where: { id } }) : null;
  if (!session || (session.userId !== user.id && user.role !== 'admin'))
    throw new AppError('not_found', 'session not found');
  if (options.live && session.status === 'ended')
    throw new AppError('gone', 'the session has ended');
  return session;
}
