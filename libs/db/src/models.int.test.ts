// Proves the hand-written migration SQL and the Prisma schema agree: every model is written
// with every field and read back through the client, on real PostgreSQL and on PGlite.
import { beforeAll, describe, expect, it } from 'vitest';
import { createServerRow, databaseKinds } from '../../../tests/harness/databases.js';
import { Prisma, type Database } from './index.js';

const at = (iso: string) => new Date(iso);

describe.each(databaseKinds)('models on $name', (kind) => {
  // One database for the file: every test uses its own unique names and keys.
  let prisma: Database['prisma'];
  beforeAll(async () => {
    const { db, close } = await kind.open();
    prisma = db.prisma;
    return close;
  });

  const newUser = (username: string) => prisma.user.create({ data: { username } });
  const newServer = (name: string) => createServerRow(prisma, name);

  it('User: defaults, every field, @updatedAt', async () => {
    const minimal = await newUser('minimal');
    expect(minimal).toMatchObject({
      displayName: null,
      passwordHash: null,
      role: 'user',
      authSource: 'local',
      disabled: false,
    });
    expect(minimal.id).toMatch(/^[0-9a-f-]{36}$/);

    const user = await prisma.user.create({
      data: {
        username: 'ann',
        displayName: 'Ann Ö’Neil',
        passwordHash: '$argon2id$v=19$x',
        role: 'admin',
        authSource: 'oidc',
        disabled: true,
      },
    });
    const updated = await prisma.user.update({ where: { id: user.id }, data: { disabled: false } });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());
    expect(await prisma.user.findUniqueOrThrow({ where: { username: 'ann' } })).toEqual(updated);
  });

  it('LoginSession: every field, nullable ones left out, millisecond instants', async () => {
    const user = await newUser('login-owner');
    const login = await prisma.loginSession.create({
      data: {
        tokenHash: 'th-1',
        userId: user.id,
        expiresAt: at('2030-01-02T03:04:05.678Z'),
        lastSeenAt: at('2029-12-31T23:59:59.999Z'),
        revokedAt: at('2030-01-01T00:00:00.001Z'),
        ip: '2001:db8::1',
        userAgent: 'Mozilla/5.0',
      },
    });
    expect(await prisma.loginSession.findUniqueOrThrow({ where: { tokenHash: 'th-1' } })).toEqual(
      login,
    );
    expect(login.expiresAt.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    const bare = await prisma.loginSession.create({
      data: { tokenHash: 'th-2', userId: user.id, expiresAt: at('2030-01-01T00:00:00Z') },
    });
    expect(bare).toMatchObject({ revokedAt: null, ip: null, userAgent: null });
    expect(bare.lastSeenAt).toBeInstanceOf(Date);

    const withSessions = await prisma.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { loginSessions: { orderBy: { tokenHash: 'asc' } } },
    });
    expect(withSessions.loginSessions).toEqual([login, bare]);
  });

  it('SetupToken: every field', async () => {
    const token = await prisma.setupToken.create({
      data: {
        tokenHash: 'st-1',
        expiresAt: at('2030-01-01T00:00:00Z'),
        usedAt: at('2030-01-01T00:00:01Z'),
      },
    });
    expect(await prisma.setupToken.findUniqueOrThrow({ where: { id: token.id } })).toEqual(token);
    const unused = await prisma.setupToken.create({
      data: { tokenHash: 'st-2', expiresAt: new Date() },
    });
    expect(unused.usedAt).toBeNull();
  });

  it('Server: every field, String[] elements that need quoting, defaults', async () => {
    const tags = ['prod', '', 'a,b', '{braces}', 'q"uote', 'back\\slash', 'NULL', 'ünï ✓', ' x '];
    const server = await prisma.server.create({
      data: {
        name: 'db-1',
        host: 'db-1.internal',
        port: 2222,
        username: 'deploy',
        authType: 'key',
        secretEncrypted: 'v1:key:ct',
        passphraseEncrypted: 'v1:key:pp',
        group: 'databases',
        tags,
        sftpEnabled: false,
        sftpReadOnly: true,
        sftpRoots: ['/srv/data', '/home/deploy/with space'],
      },
    });
    expect(await prisma.server.findUniqueOrThrow({ where: { name: 'db-1' } })).toEqual(server);
    expect(server.tags).toEqual(tags);
    expect(await prisma.server.findMany({ where: { tags: { has: 'a,b' } } })).toEqual([server]);

    const plain = await newServer('web-1');
    expect(plain).toMatchObject({
      port: 22,
      tags: [],
      group: null,
      passphraseEncrypted: null,
      sftpEnabled: true,
      sftpReadOnly: false,
      sftpRoots: [],
    });
    const retagged = await prisma.server.update({
      where: { id: plain.id },
      data: { tags: { push: 'late' } },
    });
    expect(retagged.tags).toEqual(['late']);
  });

  it('KnownHost: every field, compound unique key', async () => {
    const known = await prisma.knownHost.create({
      data: {
        host: 'db-1.internal',
        port: 2222,
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:abc',
        publicKey: 'AAAAC3Nz',
      },
    });
    const where = { host_port: { host: 'db-1.internal', port: 2222 } };
    expect(await prisma.knownHost.findUniqueOrThrow({ where })).toEqual(known);
  });

  it('TerminalSession: every field, BigInt counters, relations', async () => {
    const user = await newUser('terminal-owner');
    const server = await newServer('terminal-target');
    const maxInt8 = 2n ** 63n - 1n;
    const session = await prisma.terminalSession.create({
      data: {
        userId: user.id,
        serverId: server.id,
        status: 'ended',
        workerId: 'worker-7',
        cols: 132,
        rows: 43,
        clientIp: '198.51.100.2',
        connectedAt: at('2030-01-01T00:00:01.5Z'),
        endedAt: at('2030-01-01T01:00:00Z'),
        exitCode: 130,
        exitSignal: 'INT',
        endReason: 'exit',
        endMessage: 'bye',
        bytesIn: maxInt8,
        bytesOut: 2n ** 53n + 1n,
      },
    });
    const read = await prisma.terminalSession.findUniqueOrThrow({
      where: { id: session.id },
      include: { user: true, server: true },
    });
    expect(read).toEqual({ ...session, user, server });
    expect(read.bytesIn).toBe(maxInt8);

    const pending = await prisma.terminalSession.create({
      data: { userId: user.id, cols: 80, rows: 24 },
    });
    expect(pending).toMatchObject({
      status: 'pending',
      serverId: null,
      workerId: null,
      bytesIn: 0n,
      bytesOut: 0n,
      exitCode: null,
      endedAt: null,
    });
    const counted = await prisma.terminalSession.update({
      where: { id: pending.id },
      data: { bytesOut: { increment: 2n ** 40n } },
    });
    expect(counted.bytesOut).toBe(2n ** 40n);

    const owner = await prisma.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { terminalSessions: { orderBy: { cols: 'desc' } } },
    });
    expect(owner.terminalSessions.map((s) => s.id)).toEqual([session.id, pending.id]);
    const target = await prisma.server.findUniqueOrThrow({
      where: { id: server.id },
      include: { terminalSessions: true },
    });
    expect(target.terminalSessions.map((s) => s.id)).toEqual([session.id]);
  });

  it('Share, SessionInvite, SessionParticipant: every field, uniqueness, cascades with the session', async () => {
    const owner = await newUser('share-owner');
    const guest = await newUser('share-guest');
    const session = await prisma.terminalSession.create({
      data: { userId: owner.id, cols: 80, rows: 24 },
    });
    const share = await prisma.share.create({
      data: {
        sessionId: session.id,
        createdById: owner.id,
        mode: 'control',
        tokenHash: 'hash-of-token',
        expiresAt: at('2030-01-01T01:00:00.123Z'),
        maxUses: 3,
        uses: 1,
        revokedAt: at('2030-01-01T00:30:00Z'),
      },
    });
    expect(await prisma.share.findUniqueOrThrow({ where: { tokenHash: 'hash-of-token' } })).toEqual(
      share,
    );
    const unlimited = await prisma.share.create({
      data: {
        sessionId: session.id,
        createdById: owner.id,
        mode: 'view',
        tokenHash: 'other',
        expiresAt: at('2030-01-01T00:00:00Z'),
      },
    });
    expect(unlimited).toMatchObject({ maxUses: null, uses: 0, revokedAt: null });

    const invite = await prisma.sessionInvite.create({
      data: {
        sessionId: session.id,
        invitedById: owner.id,
        userId: guest.id,
        mode: 'view',
        respondedAt: at('2030-01-01T00:00:05Z'),
        status: 'accepted',
      },
    });
    const readInvite = await prisma.sessionInvite.findUniqueOrThrow({
      where: { id: invite.id },
      include: { user: true, invitedBy: true },
    });
    expect(readInvite).toEqual({ ...invite, user: guest, invitedBy: owner });

    const participant = await prisma.sessionParticipant.create({
      data: {
        sessionId: session.id,
        userId: guest.id,
        role: 'control',
        via: `share:${share.id}`,
        revokedAt: at('2030-01-01T00:40:00Z'),
      },
    });
    expect(
      await prisma.sessionParticipant.findUniqueOrThrow({
        where: { sessionId_userId: { sessionId: session.id, userId: guest.id } },
      }),
    ).toEqual(participant);
    await expect(
      prisma.sessionParticipant.create({
        data: { sessionId: session.id, userId: guest.id, role: 'view', via: 'invite:x' },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });

    await prisma.terminalSession.delete({ where: { id: session.id } });
    expect(await prisma.share.count({ where: { sessionId: session.id } })).toBe(0);
    expect(await prisma.sessionInvite.count({ where: { sessionId: session.id } })).toBe(0);
    expect(await prisma.sessionParticipant.count({ where: { sessionId: session.id } })).toBe(0);
  });

  it('AuditEvent: every field, Json details, autoincrement BigInt seq', async () => {
    const details = {
      changed: ['port'],
      from: 22,
      ratio: 1.5,
      ok: true,
      note: null,
      deep: { x: [{ y: 'ü' }] },
    };
    const event = await prisma.auditEvent.create({
      data: {
        at: at('2030-01-01T00:00:00.123Z'),
        actorId: '00000000-0000-4000-8000-000000000001',
        actorName: 'ann',
        action: 'server.updated',
        targetType: 'server',
        targetId: 'db-1',
        serverId: '00000000-0000-4000-8000-000000000002',
        sessionId: '00000000-0000-4000-8000-000000000003',
        ip: '198.51.100.2',
        details,
        prevHash: 'p',
        hash: 'h-model',
      },
    });
    expect(await prisma.auditEvent.findUniqueOrThrow({ where: { hash: 'h-model' } })).toEqual(
      event,
    );
    expect(typeof event.seq).toBe('bigint');
    expect(event.details).toEqual(details);

    const sparse = await prisma.auditEvent.create({
      data: { actorName: 'system', action: 'boot', prevHash: 'h-model', hash: 'h-sparse' },
    });
    expect(sparse).toMatchObject({
      actorId: null,
      targetType: null,
      targetId: null,
      serverId: null,
      sessionId: null,
      ip: null,
      details: null,
    });
    expect(sparse.at).toBeInstanceOf(Date);
    expect(sparse.seq).toBeGreaterThan(event.seq);
  });

  it('cascades user deletion and nulls a deleted server on sessions', async () => {
    const user = await newUser('cascade');
    const server = await newServer('gone');
    await prisma.loginSession.create({
      data: { tokenHash: 'cascade-token', userId: user.id, expiresAt: new Date() },
    });
    const session = await prisma.terminalSession.create({
      data: { userId: user.id, serverId: server.id, cols: 80, rows: 24 },
    });

    await prisma.server.delete({ where: { id: server.id } });
    const orphan = await prisma.terminalSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(orphan.serverId).toBeNull();

    await prisma.user.delete({ where: { id: user.id } });
    expect(await prisma.loginSession.count({ where: { userId: user.id } })).toBe(0);
    expect(await prisma.terminalSession.count({ where: { userId: user.id } })).toBe(0);
  });

  it('Recording and RecordingPolicy: every field, defaults, one recording per session', async () => {
    const user = await newUser('recorded');
    const session = await prisma.terminalSession.create({
      data: { userId: user.id, cols: 80, rows: 24 },
    });
    const minimal = await prisma.recording.create({
      data: {
        sessionId: session.id,
        userId: user.id,
        username: 'recorded',
        serverName: 'db-1',
        mode: 'strict',
        recordsInput: false,
        keyId: 'abcd1234',
        cols: 80,
        rows: 24,
        startedAt: at('2026-11-22T10:00:00.123Z'),
      },
    });
    expect(minimal).toMatchObject({
      status: 'recording',
      serverId: null,
      endedAt: null,
      durationMs: 0,
      sizeBytes: 0n,
      chunks: 0,
      lastTag: null,
      resume: null,
      gaps: 0,
      digest: null,
    });
    const full = await prisma.recording.update({
      where: { id: minimal.id },
      data: {
        serverId: '00000000-0000-4000-8000-000000000001',
        status: 'complete',
        endedAt: at('2026-11-22T10:05:00.456Z'),
        durationMs: 300_333,
        sizeBytes: 2n ** 40n,
        chunks: 12,
        lastTag: 'dGFn',
        resume: { lastSeq: 42, tail: '' },
        gaps: 1,
        digest: 'f'.repeat(64),
      },
    });
    expect(await prisma.recording.findUniqueOrThrow({ where: { sessionId: session.id } })).toEqual(
      full,
    );
    const again = { ...minimal, id: undefined, resume: undefined };
    await expect(prisma.recording.create({ data: again })).rejects.toMatchObject({
      code: 'P2002',
    });

    const policy = await prisma.recordingPolicy.create({
      data: { scope: 'group:prod', enabled: true },
    });
    expect(policy).toMatchObject({ mode: 'best_effort', recordInput: false });
    await prisma.recordingPolicy.update({
      where: { scope: 'group:prod' },
      data: { mode: 'strict', recordInput: true },
    });
    expect(
      await prisma.recordingPolicy.findUniqueOrThrow({ where: { scope: 'group:prod' } }),
    ).toMatchObject({ enabled: true, mode: 'strict', recordInput: true });

    await prisma.terminalSession.delete({ where: { id: session.id } });
    expect(await prisma.recording.count({ where: { id: minimal.id } })).toBe(0);
  });

  it('rolls back an interactive transaction that throws', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { username: 'rolled-back' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await prisma.user.count({ where: { username: 'rolled-back' } })).toBe(0);
  });

  it('reports a unique violation as P2002', async () => {
    await newServer('duplicate');
    const again = newServer('duplicate');
    await expect(again).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(again).rejects.toMatchObject({ code: 'P2002' });
  });
});
