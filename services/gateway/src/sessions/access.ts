import type { Role } from '@sallyport/bus';
import type { PrismaClient, Server, TerminalSession, User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { isUuid } from '../http/ids.js';

export interface SessionAccess {
  session: TerminalSession & { server: Server | null };
  role: Role;
  via: string;
}

/**
 * How `user` may attach to a session: its owner, or a participant let in by a share or an
 * invitation that has not been revoked. Anyone else gets the same 404 as for a missing id.
 */
export async function sessionAccess(
  prisma: PrismaClient,
  sessionId: string,
  user: User,
): Promise<SessionAccess> {
  const session = isUuid(sessionId)
    ? await prisma.terminalSession.findUnique({
        where: { id: sessionId },
        include: { server: true },
      })
    : null;
  if (!session) throw new AppError('not_found', 'session not found');
  let access: { role: Role; via: string } | undefined;
  if (session.userId === user.id) access = { role: 'owner', via: 'owner' };
  else {
    const participant = await prisma.sessionParticipant.findUnique({
      where: { sessionId_userId: { sessionId, userId: user.id } },
    });
    if (participant && !participant.revokedAt)
      access = { role: participant.role as Role, via: participant.via };
  }
  if (!access) throw new AppError('not_found', 'session not found');
  if (session.status === 'ended') throw new AppError('gone', 'the session has ended');
  if (session.status === 'pending')
    throw new AppError('conflict', 'the session is still starting; try again in a moment');
  return { session, ...access };
}
