// What the benchmark runs against: the private sshd (the target, and the direct baseline),
// Sallyport in distributed mode (built gateway, session-worker and sftp-worker processes on a
// private Redis and a throw-away PostgreSQL database) and in embedded mode (one process,
// PGlite), each with the sshd registered as a server and a logged-in admin.
import { startSshd, type SshdHandle } from '../../tests/harness/sshd.js';
import { startDistributed, startEmbedded } from '../../tests/support/sallyport.js';
import { sshdServer } from '../../tests/support/target.js';
import type { ApiClient } from '../../tests/support/api.js';
import { directOpener, type SshTarget } from '../clients/direct-ssh.js';
import { sallyportOpener, type SallyportTarget } from '../clients/sallyport.js';
import type { TerminalOpener } from '../clients/terminal.js';
import type { ProcRef } from '../measure/proc.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

export type ContenderKey = 'direct' | 'distributed' | 'embedded';

export const CONTENDER_LABELS: Record<ContenderKey, string> = {
  direct: 'direct ssh2',
  distributed: 'Sallyport distributed',
  embedded: 'Sallyport embedded',
};

export interface Contender {
  key: ContenderKey;
  opener: TerminalOpener;
  /** The same shell, logged in with a key instead of the password. */
  keyLoginOpener: TerminalOpener;
  /** Processes whose CPU is the server side's cost (none for the direct baseline). */
  serverProcs: ProcRef[];
  /** Prometheus endpoints of the Node processes, for event-loop lag. */
  metricsUrls: { name: string; url: string }[];
  /** The private Redis, in distributed mode. */
  redis?: RedisServer;
  /** Set for the direct baseline: where it connects. */
  ssh?: SshTarget;
  /** Set for the Sallyport contenders. */
  sallyport?: {
    target: SallyportTarget;
    admin: ApiClient;
    /** The sftp-worker behind the gateways' Files API, when the deployment has one. */
    sftpWorker?: ProcRef & { metricsUrl: string };
  };
}

export interface SallyportDeployment {
  contender: Contender;
  /** The main process holding sessions: the session worker, or the embedded process. */
  sessionHolder: ProcRef;
  /** The gateway process (the same as the holder in embedded mode). */
  gateway: ProcRef;
  stop(): Promise<void>;
}

/** sshd settings for hundreds of concurrent connections; each session is its own connection. */
const SSHD_CONFIG = [
  // Up to this many connections may be unauthenticated at once before sshd starts dropping.
  'MaxStartups 400:30:800',
  // VERBOSE logs several lines per connection; the harness keeps them all in memory.
  'LogLevel INFO',
];

export function startBenchSshd(): Promise<SshdHandle> {
  return startSshd({ extraConfig: SSHD_CONFIG });
}

export function directContender(sshd: SshdHandle): Contender {
  const ssh: SshTarget = {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    password: sshd.password,
  };
  return {
    key: 'direct',
    opener: directOpener(ssh),
    keyLoginOpener: directOpener({ ...ssh, privateKey: sshd.privateKey }),
    ssh,
    serverProcs: [],
    metricsUrls: [],
  };
}

/**
 * Settings every Sallyport process of the bench gets. The bench measures speed and memory, not
 * limits: the memory scenario opens a thousand sessions within minutes, all as the admin, and
 * all on one worker, which the defaults refuse (60 opens a minute and 20 open sessions per
 * user, 500 sessions per worker) long before.
 */
function benchEnv(maxSessions: number): Record<string, string> {
  return {
    SALLYPORT_CONNECTS_PER_MINUTE: '100000',
    SALLYPORT_MAX_SESSIONS_PER_USER: String(maxSessions),
    SALLYPORT_WORKER_MAX_SESSIONS: String(maxSessions),
  };
}

/** The bench's sshd as a server that Sallyport logs in to with the test user's key. */
function keyLoginServer(sshd: SshdHandle) {
  return sshdServer(sshd, { auth: { type: 'key', privateKey: sshd.privateKey } });
}

export interface DeployOptions {
  sshd: SshdHandle;
  acks: boolean;
  gateways: number;
  maxSessions: number;
  /** Distributed mode: also start an sftp-worker for the gateways' Files API. */
  sftp: boolean;
  /** Extra environment, e.g. NODE_OPTIONS for --cpu-prof. */
  env?: Record<string, string>;
}

export async function deployDistributed(options: DeployOptions): Promise<SallyportDeployment> {
  const redis = await startRedisServer();
  try {
    const cluster = await startDistributed({
      gateways: options.gateways,
      workers: 1, // every session on one worker: its cost per session is what is measured
      // One sftp-worker serves every gateway; startDistributed gives them its URL and the
      // secret they sign requests with.
      sftpWorkers: options.sftp ? 1 : 0,
      redisUrl: redis.url,
      env: { ...benchEnv(options.maxSessions), ...options.env },
      // The sftp-workers get only their own environment: pass the profiler on to them too.
      ...(options.env ? { sftpWorkerEnv: options.env } : {}),
    });
    try {
      const serverId = (await cluster.admin.createServer(sshdServer(options.sshd))).id;
      const keyServerId = (await cluster.admin.createServer(keyLoginServer(options.sshd))).id;
      const worker = cluster.workers[0]!;
      const gateways = cluster.gateways.map((g, i) => ({ name: `gateway-${i}`, pid: g.proc.pid! }));
      const target: SallyportTarget = {
        gatewayUrls: cluster.gateways.map((g) => g.url!),
        serverId,
        cookie: cluster.admin.cookie,
        acks: options.acks,
      };
      const workerRef = { name: 'worker', pid: worker.proc.pid! };
      const sftpWorker = cluster.sftpWorkers[0];
      const sftpRef = sftpWorker && {
        name: 'sftp-worker',
        pid: sftpWorker.proc.pid!,
        metricsUrl: `${sftpWorker.url!}/metrics`,
      };
      return {
        contender: {
          key: 'distributed',
          opener: sallyportOpener(target),
          keyLoginOpener: sallyportOpener({ ...target, serverId: keyServerId }),
          serverProcs: [
            ...gateways,
            workerRef,
            ...(sftpRef ? [sftpRef] : []),
            { name: 'redis', pid: redis.pid },
          ],
          metricsUrls: [
            ...cluster.gateways.map((g, i) => ({ name: `gateway-${i}`, url: `${g.url!}/metrics` })),
            { name: 'worker', url: `${worker.url!}/metrics` },
          ],
          redis,
          sallyport: { target, admin: cluster.admin, ...(sftpRef ? { sftpWorker: sftpRef } : {}) },
        },
        sessionHolder: workerRef,
        gateway: gateways[0]!,
        stop: async () => {
          await cluster.stop();
          await redis.stop();
        },
      };
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  } catch (err) {
    await redis.stop();
    throw err;
  }
}

export async function deployEmbedded(options: DeployOptions): Promise<SallyportDeployment> {
  const app = await startEmbedded({ ...benchEnv(options.maxSessions), ...options.env });
  try {
    const serverId = (await app.admin.createServer(sshdServer(options.sshd))).id;
    const keyServerId = (await app.admin.createServer(keyLoginServer(options.sshd))).id;
    const target: SallyportTarget = {
      gatewayUrls: [app.url],
      serverId,
      cookie: app.admin.cookie,
      acks: options.acks,
    };
    const ref = { name: 'embedded', pid: app.process.proc.pid! };
    return {
      contender: {
        key: 'embedded',
        opener: sallyportOpener(target),
        keyLoginOpener: sallyportOpener({ ...target, serverId: keyServerId }),
        serverProcs: [ref],
        metricsUrls: [{ name: 'embedded', url: `${app.url}/metrics` }],
        sallyport: { target, admin: app.admin },
      },
      sessionHolder: ref,
      gateway: ref,
      stop: () => app.stop(),
    };
  } catch (err) {
    await app.stop();
    throw err;
  }
}
