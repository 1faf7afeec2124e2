// An sftp-worker in-process on PGlite, against a real sshd, with a signing client: for the
// sftp-worker's integration tests, which drive its internal API as a gateway would.
import { randomBytes, randomUUID } from 'node:crypto';
import { chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCidrList } from '@sallyport/config';
import { Keyring, generateKey } from '@sallyport/crypto';
import { openDatabase, type Database, type Server } from '@sallyport/db';
import { createLogger } from '@sallyport/log';
import { createRegistry } from '@sallyport/observability';
import { signRequest, toQuery, workerPath, type FileOperation } from '@sallyport/sftp-protocol';
import { serverSecretContext } from '@sallyport/ssh';
import { startSftpWorker, type SftpWorker, type SftpWorkerOptions } from '@sallyport/sftp-worker';
import { run } from '../harness/processes.js';
import type { SshdInfo } from '../harness/sshd.js';

export interface SftpFixture {
  worker: SftpWorker;
  db: Database;
  secret: string;
  user: { id: string; username: string };
  addServer(
    sshd: Pick<SshdInfo, 'host' | 'port' | 'user' | 'password'>,
    fields?: Partial<Server>,
  ): Promise<Server>;
  call(
    serverId: string,
    op: FileOperation,
    params?: Record<string, string | number | boolean | undefined>,
    init?: RequestInit,
  ): Promise<Response>;
  stop(): Promise<void>;
}

export async function startSftpFixture(
  options: Partial<SftpWorkerOptions> = {},
): Promise<SftpFixture> {
  const db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  const keyring = new Keyring(generateKey());
  const secret = randomBytes(32).toString('base64url');
  const username = `tester-${randomBytes(3).toString('hex')}`;
  const user = await db.prisma.user.create({ data: { username } });
  const worker = await startSftpWorker(
    {
      host: '127.0.0.1',
      port: 0,
      internalSecret: secret,
      idleTtlMs: 60_000,
      opTimeoutMs: 10_000,
      maxUploadBytes: 64 * 1024 * 1024,
      maxZipBytes: 64 * 1024 * 1024,
      maxTransfersPerUser: 4,
      ssh: {
        connectTimeoutMs: 10_000,
        keepaliveIntervalMs: 15_000,
        hostKeyPolicy: 'tofu',
        targetDeny: parseCidrList('169.254.0.0/16'),
      },
      ...options,
    },
    {
      prisma: db.prisma,
      keyring,
      log: createLogger('sftp-worker-test', { level: 'warn' }),
      registry: createRegistry(),
      checks: {},
    },
  );
  return {
    worker,
    db,
    secret,
    user: { id: user.id, username },
    addServer: (sshd, fields = {}) => {
      const id = randomUUID();
      return db.prisma.server.create({
        data: {
          id,
          name: `sshd-${id}`,
          host: sshd.host,
          port: sshd.port,
          username: sshd.user,
          authType: 'password',
          secretEncrypted: keyring.encrypt(sshd.password, serverSecretContext(id, 'secret')),
          ...fields,
        },
      });
    },
    call: (serverId, op, params = {}, init = {}) => {
      const method =
        init.method ??
        (op === 'upload'
          ? 'PUT'
          : ['mkdir', 'rename', 'delete', 'chmod'].includes(op)
            ? 'POST'
            : 'GET');
      const path = workerPath(serverId, op, toQuery(params));
      const headers = signRequest(secret, {
        method,
        path,
        identity: { userId: user.id, username, ip: '127.0.0.1', reqId: randomUUID() },
      });
      return fetch(worker.url + path, {
        ...init,
        method,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        ...(init.body ? { duplex: 'half' } : {}),
      });
    },
    stop: async () => {
      await worker.close();
      await db.close();
    },
  };
}

/** A fresh directory in the test user's home, owned by that user, removed by the returned function. */
export async function userDir(
  home: string,
  label: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = join(home, `${label}-${randomBytes(4).toString('hex')}`);
  await mkdir(path, { recursive: true });
  await chownToTestUser(path);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function chownToTestUser(path: string): Promise<void> {
  const uid = Number((await run('id', ['-u', 'sptest'])).trim());
  const gid = Number((await run('id', ['-g', 'sptest'])).trim());
  await chown(path, uid, gid);
}
