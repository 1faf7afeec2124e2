import type { SessionBus } from '@sallyport/bus';
import type { PrismaClient } from '@sallyport/db';

/**
 * Takes away what `via` (a share or an invitation) let people do in a session: their right to
 * come back, and their open sockets, which the worker closes with `message`.
 */
export async function revokeAccess(
  deps: { prisma: PrismaClient; bus: SessionBus },
  sessionId: string,
  via: string,
  message: string,
): Promise<void> {
  await deps.prisma.sessionParticipant.updateMany({
    where: { sessionId, via, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  await deps.bus.sendInput(sessionId, { type: 'revoke', via, message });
}
