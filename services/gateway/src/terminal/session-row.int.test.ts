import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@sallyport/db';
import { createServerRow, databaseKinds } from '../../../../tests/harness/databases.js';
import { insertSessionRow, type SessionLimits } from './session-row.js';

describe.each(databaseKinds)('a new session row on $name', (kind) => {
  let prisma: Database['prisma'];
  let serverId: string;
  beforeAll(async () => {
    const { db, close } = await kind.open();
    prisma = db.prisma;
    const server = await createServerRow(prisma, 'db-1');
    serverId = server.id;
    return close;
  });

  let users = 0;
  const newUser = async () => (await prisma.user.create({ data: { username: `u${++users}` } })).id;
  const roomy: SessionLimits = { maxPerUser: 100, maxTotal: 10_000 };
  const insert = (userId: string, limits = roomy, server = serverId) => {
    const id = randomUUID();
    return insertSessionRow(
      prisma,
      { id, userId, serverId: server, cols: 120, rows: 40, clientIp: '192.0.2.7' },
      limits,
    ).then((result) => ({ id, result }));
  };
  const live = () =>
    prisma.terminalSession.count({ where: { status: { in: ['pending', 'active'] } } });

  it('writes the row as Prisma would, pending, and names its server', async () => {
    const userId = await newUser();
    const before = new Date();
    const { id, result } = await insert(userId);
    expect(result).toEqual({ created: true, serverName: 'db-1' });
    const row = await prisma.terminalSession.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({
      userId,
      serverId,
      status: 'pending',
      cols: 120,
      rows: 40,
      clientIp: '192.0.2.7',
      workerId: null,
      endedAt: null,
      bytesIn: 0n,
      bytesOut: 0n,
    });
    expect(row.createdAt.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1_000);
  });

  it('writes nothing for a server that does not exist', async () => {
    const userId = await newUser();
    const { id, result } = await insert(userId, roomy, randomUUID());
    expect(result).toEqual({ created: false, message: 'server not found' });
    expect(await prisma.terminalSession.findUnique({ where: { id } })).toBeNull();
  });

  it('holds a user to their own limit, counting only sessions not yet ended', async () => {
    const [me, someoneElse] = [await newUser(), await newUser()];
    const limits = { maxPerUser: 2, maxTotal: 10_000 };
    const first = await insert(me, limits);
    await insert(me, limits);
    await insert(someoneElse, limits);
    const refused = await insert(me, limits);
    expect(refused.result).toEqual({
      created: false,
      message: 'you already have 2 open sessions; end one first',
    });
    expect(await prisma.terminalSession.findUnique({ where: { id: refused.id } })).toBeNull();
    expect((await insert(someoneElse, limits)).result.created).toBe(true);

    await prisma.terminalSession.update({
      where: { id: first.id },
      data: { status: 'ended', endedAt: new Date() },
    });
    expect((await insert(me, limits)).result.created).toBe(true);
  });

  it('holds both limits exactly when opens arrive together', async () => {
    const me = await newUser();
    const mine = await Promise.all(
      Array.from({ length: 12 }, () => insert(me, { maxPerUser: 3, maxTotal: 10_000 })),
    );
    expect(mine.filter(({ result }) => result.created)).toHaveLength(3);
    expect(mine.filter(({ result }) => !result.created).map(({ result }) => result)).toEqual(
      Array(9).fill({ created: false, message: 'you already have 3 open sessions; end one first' }),
    );
    expect(
      await prisma.terminalSession.count({
        where: { userId: me, status: { in: ['pending', 'active'] } },
      }),
    ).toBe(3);

    const total = await live();
    const limits = { maxPerUser: 100, maxTotal: total + 2 };
    const users = await Promise.all(Array.from({ length: 12 }, newUser));
    const everyone = await Promise.all(users.map((userId) => insert(userId, limits)));
    expect(everyone.filter(({ result }) => result.created)).toHaveLength(2);
    expect(await live()).toBe(total + 2);
  });

  it('holds everyone together to the total', async () => {
    const total = await live();
    const limits = { maxPerUser: 100, maxTotal: total + 1 };
    expect((await insert(await newUser(), limits)).result.created).toBe(true);
    const refused = await insert(await newUser(), limits);
    expect(refused.result).toEqual({
      created: false,
      message: 'Sallyport is at its session limit; try again later',
    });
    expect(await live()).toBe(total + 1);
  });
});
