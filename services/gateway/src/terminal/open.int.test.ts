import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryTransport, SessionBus } from '@sallyport/bus';
import type { Database, User } from '@sallyport/db';
import { createLogger } from '@sallyport/log';
import { createServerRow, databaseKinds } from '../../../../tests/harness/databases.js';
import { BrowserSocket } from '../../../../tests/support/browser-socket.js';
import { refuseWrites } from '../../../../tests/support/refused-writes.js';
import { createGatewayMetrics } from '../metrics.js';
import { Attachment } from './attachment.js';
import { EarlyWatch } from './early-watch.js';
import { openNewSession } from './open.js';

describe.each(databaseKinds)('opening a new terminal session on $name', (kind) => {
  let prisma: Database['prisma'];
  let user: User;
  let serverId: string;
  beforeAll(async () => {
    const { db, close } = await kind.open();
    prisma = db.prisma;
    user = await prisma.user.create({ data: { username: 'ann' } });
    serverId = (await createServerRow(prisma, 'db-1')).id;
    return close;
  });

  /** openNewSession for a browser socket, and what the gateway asked of the workers. */
  function open(socket: BrowserSocket, server = serverId, openTimeoutMs = 60_000) {
    const bus = new SessionBus(createMemoryTransport());
    const requestOpen = vi.spyOn(bus, 'requestOpen');
    const subscription = new EarlyWatch(bus, randomUUID());
    const attachment = new Attachment(
      socket.asWebSocket,
      {
        sessionId: subscription.sessionId,
        userId: user.id,
        username: user.username,
        role: 'owner',
        via: 'owner',
      },
      {
        bus,
        metrics: createGatewayMetrics(new Registry()),
        log: createLogger('test', { level: 'silent' }),
        flowWindowBytes: 1024 * 1024,
      },
    );
    const opened = openNewSession(
      attachment,
      { user, serverId: server, size: { cols: 80, rows: 24 }, clientIp: '192.0.2.1', subscription },
      {
        bus,
        prisma,
        openTimeoutMs,
        limits: { maxPerUser: 10, maxTotal: 100 },
        log: createLogger('test', { level: 'silent' }),
      },
    );
    const row = () => prisma.terminalSession.findUnique({ where: { id: attachment.sessionId } });
    const admission = () => bus.admission(attachment.sessionId);
    return { opened, requestOpen, row, admission };
  }

  it('asks a worker for the session, and admits it once its row is written and the socket told', async () => {
    const socket = new BrowserSocket();
    const { opened, requestOpen, row, admission } = open(socket);
    await opened;
    expect(requestOpen).toHaveBeenCalledOnce();
    expect(requestOpen.mock.calls[0]![0]).toMatchObject({ awaitsAdmission: true, serverId });
    expect(socket.control).toMatchObject([{ type: 'session', serverName: 'db-1', role: 'owner' }]);
    expect(await row()).toMatchObject({ status: 'pending', endedAt: null });
    expect(await admission()).toBe(true);
    socket.close();
  });

  it('refuses the worker, and tells the browser why, when the row is refused', async () => {
    const socket = new BrowserSocket();
    const { opened, row, admission } = open(socket, randomUUID());
    await opened;
    expect(socket.control).toEqual([
      { type: 'exit', reason: 'refused', message: 'server not found', code: null, signal: null },
    ]);
    expect(await row()).toBeNull();
    expect(await admission()).toBe(false);
  });

  it('tells the browser when no worker takes the session, even if its row cannot be ended', async () => {
    // Nothing answers on this bus: the open times out.
    const restore = await refuseWrites((sql) => prisma.$executeRawUnsafe(sql), {
      name: 'refuse_timeout',
      table: 'terminal_sessions',
      event: 'UPDATE',
      when: `NEW.end_reason = 'timeout'`,
    });
    try {
      const socket = new BrowserSocket();
      const { opened, row } = open(socket, serverId, 1000);
      await opened;
      await vi.waitFor(() => expect(socket.control.at(-1)).toMatchObject({ type: 'exit' }), {
        timeout: 10_000,
      });
      expect(socket.control.at(-1)).toEqual({
        type: 'exit',
        reason: 'timeout',
        message: 'no session worker took the session within 1 s',
        code: null,
        signal: null,
      });
      expect(await row()).toMatchObject({ status: 'pending', endedAt: null });
    } finally {
      await restore();
    }
  });

  it('asks no worker, refuses it, and ends the row when the browser leaves while it is written', async () => {
    const socket = new BrowserSocket();
    const { opened, requestOpen, row, admission } = open(socket);
    socket.close();
    await opened;
    expect(requestOpen).not.toHaveBeenCalled();
    expect(socket.control).toEqual([]);
    expect(await row()).toMatchObject({ status: 'ended', endReason: 'closed' });
    expect(await admission()).toBe(false);
  });
});
