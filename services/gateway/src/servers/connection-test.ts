import { randomUUID } from 'node:crypto';
import type { EndReason, SessionBus, SessionMessage } from '@sallyport/bus';

export type ConnectionTestResult =
  | { ok: true; hostKeyFingerprint: string; hostKeyPinned: boolean; message: string }
  | { ok: false; reason: EndReason; message: string };

/**
 * Asks a session worker to connect, verify the host key and authenticate, then hang up. It
 * goes through a worker, not the gateway, because only workers need a route to the targets.
 */
export async function testConnection(
  bus: SessionBus,
  request: {
    userId: string;
    username: string;
    serverId: string;
    clientIp: string;
    timeoutMs: number;
  },
): Promise<ConnectionTestResult> {
  const sessionId = randomUUID();
  let ready: Extract<SessionMessage, { type: 'ready' }> | undefined;
  let settle!: (r: ConnectionTestResult) => void;
  const result = new Promise<ConnectionTestResult>((resolve) => (settle = resolve));

  const unsubscribe = await bus.watch(sessionId, (msg) => {
    if (msg.type === 'ready') ready = msg;
    if (msg.type !== 'ended') return;
    settle(
      ready
        ? {
            ok: true,
            hostKeyFingerprint: ready.hostKeyFingerprint,
            hostKeyPinned: ready.hostKeyPinned,
            message: msg.message,
          }
        : { ok: false, reason: msg.reason, message: msg.message },
    );
  });
  const timer = setTimeout(
    () =>
      settle({
        ok: false,
        reason: 'timeout',
        message: `no answer within ${Math.round(request.timeoutMs / 1000)} s (is a session worker running?)`,
      }),
    request.timeoutMs,
  );
  try {
    await bus.requestOpen({
      sessionId,
      kind: 'test',
      userId: request.userId,
      username: request.username,
      attachId: randomUUID(),
      serverId: request.serverId,
      clientIp: request.clientIp,
      cols: 80,
      rows: 24,
      deadline: Date.now() + request.timeoutMs,
    });
    return await result;
  } finally {
    clearTimeout(timer);
    await unsubscribe();
  }
}
