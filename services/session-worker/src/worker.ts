import type { OpenRequest, QueueConsumer, RecordingBus, SessionBus } from '@sallyport/bus';
import type { Config } from '@sallyport/config';
import type { Keyring } from '@sallyport/crypto';
import type { PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import type { Registry } from '@sallyport/observability';
import { KnownHosts, TargetPolicy, type SshSettings } from '@sallyport/ssh';
import { HeadStarts } from './head-starts.js';
import { createWorkerMetrics } from './metrics.js';
import { TerminalSession, type SessionSettings } from './terminal-session.js';

export interface SessionWorkerOptions {
  /** Unique among workers; shown as the session's owner. */
  workerId: string;
  /** A worker at this many sessions stops taking open requests, so others get them. */
  maxSessions: number;
  ssh: SshSettings;
  session: SessionSettings;
}

export interface SessionWorkerDeps {
  bus: SessionBus;
  /** Where recorded sessions' events go (see recording.ts). */
  recordingBus: RecordingBus;
  prisma: PrismaClient;
  keyring: Keyring;
  log: Logger;
  registry: Registry;
  clock?: () => number;
}

export interface SessionWorker {
  readonly sessionCount: number;
  /** Stop taking sessions, end the ones it owns (clients are told why), and let go. Idempotent. */
  stop(): Promise<void>;
}

// Servers whose address a worker keeps for the next session's head start (a hundred bytes each).
const HEAD_START_SERVERS = 10_000;

/** The worker's options as the configuration gives them. */
export function workerOptionsFrom(config: Config): SessionWorkerOptions {
  return {
    workerId: config.worker.id,
    maxSessions: config.worker.maxSessions,
    ssh: config.ssh,
    session: config.session,
  };
}

/** Takes open requests from the bus while it has room, and runs each as a TerminalSession. */
export function startSessionWorker(
  options: SessionWorkerOptions,
  deps: SessionWorkerDeps,
): SessionWorker {
  const { bus, log } = deps;
  const now = deps.clock ?? Date.now;
  const sessions = new Map<string, TerminalSession>();
  // Requests being set up count against capacity from the first moment, so the consumer does
  // not read another request while this one is still claiming its lease.
  let starting = 0;
  const ssh = {
    connectTimeoutMs: options.ssh.connectTimeoutMs,
    keepaliveIntervalMs: options.ssh.keepaliveIntervalMs,
    // A terminal's bulk output is read in batches; SFTP's large replies need no help.
    paceReads: true,
  };
  const metrics = createWorkerMetrics(deps.registry, () => {
    let compacted = 0;
    for (const session of sessions.values()) if (session.screenCompacted) compacted++;
    return compacted;
  });
  const sessionDeps = {
    workerId: options.workerId,
    bus,
    recordingBus: deps.recordingBus,
    prisma: deps.prisma,
    keyring: deps.keyring,
    knownHosts: new KnownHosts(deps.prisma, options.ssh.hostKeyPolicy),
    policy: new TargetPolicy({ deny: options.ssh.targetDeny, allow: options.ssh.targetAllow }),
    log,
    metrics,
    ssh,
    session: options.session,
    headStarts: new HeadStarts({
      capacity: HEAD_START_SERVERS,
      paceReads: ssh.paceReads,
      onOutcome: (outcome) => metrics.headStarts.inc({ outcome }),
    }),
  };

  async function handle(request: OpenRequest): Promise<void> {
    starting += 1;
    try {
      await startSession(request);
    } finally {
      starting -= 1;
    }
  }

  async function startSession(request: OpenRequest): Promise<void> {
    if (request.deadline < now()) {
      log.info({ sessionId: request.sessionId }, 'dropped an open request whose gateway gave up');
      return;
    }
    // The server's row is read while the lease is claimed: the SSH connection waits for it, and
    // the read has no effect if the session turns out to be another worker's. A Prisma query
    // starts only once something waits on it: the catch() below starts it now, and marks its
    // failure handled, for the session reports it (it ends with an error).
    const serverLookup = deps.prisma.server.findUnique({ where: { id: request.serverId } });
    serverLookup.catch(() => undefined);
    // The server starts up its side of the connection meanwhile (see HeadStarts).
    const headStart = sessionDeps.headStarts.start(request.serverId);
    // A request claimed from a dead worker may already be owned by a live one.
    const claimed = await bus
      .claimOwnership(request.sessionId, options.workerId)
      .catch((err: unknown) => {
        headStart?.discard();
        throw err;
      });
    if (!claimed) {
      headStart?.discard();
      return;
    }
    const session = new TerminalSession(request, serverLookup, sessionDeps, headStart);
    sessions.set(session.id, session);
    void session.ended.finally(() => {
      sessions.delete(session.id);
      consumer.wake();
    });
    await session.start();
  }

  const consumer: QueueConsumer = bus.serveOpenRequests({
    workerId: options.workerId,
    hasCapacity: () => sessions.size + starting < options.maxSessions,
    handler: (request) =>
      handle(request).catch((err: unknown) => {
        log.error({ err, sessionId: request.sessionId }, 'could not start a session');
      }),
    onError: (err) => log.warn({ err }, 'session queue error'),
  });
  log.info(
    { workerId: options.workerId, maxSessions: options.maxSessions },
    'session worker taking sessions',
  );

  let stopping: Promise<void> | undefined;
  return {
    get sessionCount() {
      return sessions.size;
    },
    stop: () =>
      (stopping ??= (async () => {
        await consumer.stop();
        await Promise.all(
          [...sessions.values()].map((s) =>
            s.end('worker_shutdown', 'the session worker is shutting down'),
          ),
        );
        log.info('session worker stopped');
      })()),
  };
}
