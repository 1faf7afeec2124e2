import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@sallyport/db';
import { databaseKinds } from '../../../../tests/harness/databases.js';
import { LoginSessions } from './login-sessions.js';

const HOUR_MS = 3_600_000;

describe.each(databaseKinds)('login sessions on $name', (kind) => {
  let prisma: Database['prisma'];
  let sessions: LoginSessions;
  beforeAll(async () => {
    const { db, close } = await kind.open();
    prisma = db.prisma;
    sessions = new LoginSessions(prisma, HOUR_MS);
    return close;
  });

  const meta = { ip: '192.0.2.1', userAgent: 'test' };
  let users = 0;
  const newUser = () =>
    prisma.user.create({
      data: { username: `user-${++users}`, displayName: 'A Person', passwordHash: 'hash' },
    });

  it('resolves a token to exactly the user Prisma reads, every column', async () => {
    const user = await newUser();
    const { token } = await sessions.create(user.id, meta);
    const resolved = await sessions.resolve(token);
    expect(resolved?.user).toStrictEqual(
      await prisma.user.findUniqueOrThrow({ where: { id: user.id } }),
    );
    const row = await prisma.loginSession.findFirstOrThrow({ where: { userId: user.id } });
    expect(resolved?.loginSessionId).toBe(row.id);
  });

  it('refuses unknown, overlong, revoked and expired tokens, and disabled users', async () => {
    expect(await sessions.resolve(undefined)).toBeUndefined();
    expect(await sessions.resolve('no-such-token')).toBeUndefined();
    expect(await sessions.resolve('x'.repeat(201))).toBeUndefined();

    const revoked = await newUser();
    const r = await sessions.create(revoked.id, meta);
    await sessions.revoke((await sessions.resolve(r.token))!.loginSessionId);
    expect(await sessions.resolve(r.token)).toBeUndefined();

    const expired = await newUser();
    const e = await new LoginSessions(prisma, -1).create(expired.id, meta);
    expect(await sessions.resolve(e.token)).toBeUndefined();

    const disabled = await newUser();
    const d = await sessions.create(disabled.id, meta);
    await prisma.user.update({ where: { id: disabled.id }, data: { disabled: true } });
    expect(await sessions.resolve(d.token)).toBeUndefined();
  });

  it('notes when a session was last used, at most once a minute', async () => {
    const user = await newUser();
    const { token } = await sessions.create(user.id, meta);
    const { loginSessionId } = (await sessions.resolve(token))!;
    const lastSeen = async () =>
      (await prisma.loginSession.findUniqueOrThrow({ where: { id: loginSessionId } })).lastSeenAt;
    const fresh = await lastSeen();
    await sessions.resolve(token);
    expect(await lastSeen()).toEqual(fresh);

    const longAgo = new Date(Date.now() - 10 * 60_000);
    await prisma.loginSession.update({
      where: { id: loginSessionId },
      data: { lastSeenAt: longAgo },
    });
    await sessions.resolve(token);
    expect((await lastSeen()).getTime()).toBeGreaterThan(longAgo.getTime() + 9 * 60_000);
  });
});
