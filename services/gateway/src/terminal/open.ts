import { appendAuditEvent, type PrismaClient, type User } from '@sallyport/db';
import type { SessionBus } from '@sallyport/bus';
import type { Logger } from '@sallyport/log';
import type { SessionAccess } from '../sessions/access.js';
import type { Attachment } from './attachment.js';
import type { EarlyWatch } from './early-watch.js';
import { insertSessionRow, type SessionLimits } from './session-row.js';

interface OpenDeps {
  bus: SessionBus;
  prisma: PrismaClient;
  openTimeoutMs: number;
  limits: SessionLimits;
  log: Logger;
}

/**
 * A new session for the socket's user: its row, and the request for a worker. The row decides
 * whether the session may open (its server exists, the session limits allow it); a worker is
 * asked meanwhile and connects to the server, but logs in only once the session is admitted
 * (`SessionBus.admit`), so the row is not on the way to the prompt. An unknown server or a
 * session limit ends the socket with a message saying so, which a browser can show (it is not
 * told why an upgrade was refused). The socket watches the session before the worker is asked,
 * so not one byte of the first output is missed: with the subscription made while the socket
 * was checked (EarlyWatch), the worker is asked as soon as the socket opens.
 */
export async function openNewSession(
  attachment: Attachment,
  open: {
    user: User;
    serverId: string;
    size: { cols: number; rows: number };
    clientIp: string;
    /** The session's subscription, made while the socket was checked. */
    subscription: EarlyWatch;
  },
  deps: OpenDeps,
): Promise<void> {
  const { user, serverId, size, clientIp, subscription } = open;
  const sessionId = attachment.sessionId;
  const accepted = noteAcceptance(attachment); // before the worker is asked: it may answer at once
  // Usually done by now: the subscription was made while the socket was checked.
  const watching = attachment.watch(subscription);
  // The worker is asked first, the row written right after: the row's query takes the event loop
  // for a moment, and the worker's connection is what the browser waits for (the row only has
  // to be there before the login).
  const askingWorker = watching.then(async () => {
    if (attachment.isEnded) return; // the browser has already left
    await deps.bus.requestOpen({
      sessionId,
      kind: 'shell',
      userId: user.id,
      username: user.username,
      serverId,
      cols: size.cols,
      rows: size.rows,
      attachId: attachment.attachId,
      clientIp,
      deadline: Date.now() + deps.openTimeoutMs,
      awaitsAdmission: true,
    });
  });
  const writingRow = watching.then(() =>
    insertSessionRow(
      deps.prisma,
      { id: sessionId, userId: user.id, serverId, cols: size.cols, rows: size.rows, clientIp },
      deps.limits,
    ),
  );
  let admitted = false;
  try {
    const [row] = await Promise.all([writingRow, askingWorker]).catch(async (err: unknown) => {
      // The request or the row failed (a failed subscription writes no row): a row written
      // meanwhile must not count against the limits forever.
      const written = await writingRow.catch(() => undefined);
      if (written?.created)
        await endUnstarted(deps.prisma, sessionId, 'error', 'the session bus was unreachable');
      throw err;
    });
    if (attachment.isEnded) {
      // The browser left while the row was written: the worker is not let in.
      if (row.created)
        await endUnstarted(
          deps.prisma,
          sessionId,
          'closed',
          'the browser left before the session started',
        );
      return;
    }
    if (!row.created) {
      attachment.finish({
        type: 'exit',
        reason: 'refused',
        message: row.message,
        code: null,
        signal: null,
      });
      return;
    }
    attachment.startAsOpener();
    attachment.send({
      type: 'session',
      id: sessionId,
      serverId,
      serverName: row.serverName,
      userId: user.id,
      role: 'owner',
      attached: false,
    });
    endIfNotAccepted(attachment, accepted, deps);
    admitted = true;
  } finally {
    // Either way: a worker that is not admitted ends the session without logging in.
    await deps.bus.admit(sessionId, admitted, deps.openTimeoutMs);
  }
  attachment.log.info('terminal session admitted');
}

/** Whether a worker has taken the session, from now on. */
function noteAcceptance(attachment: Attachment): () => boolean {
  let accepted = false;
  const previous = attachment.onAccepted;
  attachment.onAccepted = () => {
    accepted = true;
    previous();
  };
  return () => accepted;
}

/** Ends the row and the socket if no worker has taken the session within the open timeout. */
function endIfNotAccepted(attachment: Attachment, accepted: () => boolean, deps: OpenDeps): void {
  const timer = setTimeout(() => {
    if (accepted() || attachment.isEnded) return;
    const message = `no session worker took the session within ${Math.round(deps.openTimeoutMs / 1000)} s`;
    void deps.prisma.terminalSession
      .updateMany({
        where: { id: attachment.sessionId, endedAt: null },
        data: { status: 'ended', endedAt: new Date(), endReason: 'timeout', endMessage: message },
      })
      .catch((err: unknown) =>
        deps.log.error(
          { err, sessionId: attachment.sessionId },
          'could not end an unopened session',
        ),
      )
      .finally(() =>
        attachment.finish({ type: 'exit', reason: 'timeout', message, code: null, signal: null }),
      );
  }, deps.openTimeoutMs);
  timer.unref();
}

async function endUnstarted(
  prisma: PrismaClient,
  sessionId: string,
  reason: 'closed' | 'error',
  message: string,
): Promise<void> {
  await prisma.terminalSession.updateMany({
    where: { id: sessionId, endedAt: null },
    data: { status: 'ended', endedAt: new Date(), endReason: reason, endMessage: message },
  });
}

/** A socket joining a running session: its owner coming back, or a participant. */
export async function attachToSession(
  attachment: Attachment,
  access: SessionAccess,
  clientIp: string,
  deps: OpenDeps,
): Promise<void> {
  const { session, role, via } = access;
  const { userId, username } = attachment.identity;
  await attachment.watch();
  attachment.send({
    type: 'session',
    id: session.id,
    serverId: session.serverId,
    serverName: session.server?.name ?? 'deleted server',
    userId,
    role,
    attached: true,
  });
  await attachment.attach();
  await appendAuditEvent(deps.prisma, {
    actorId: userId,
    actorName: username,
    action: role === 'owner' ? 'session.resume' : 'session.join',
    targetType: 'session',
    targetId: session.id,
    serverId: session.serverId,
    sessionId: session.id,
    ip: clientIp,
    details: { role, via },
  });
  attachment.log.info({ role, via }, 'attached to a running session');
}
