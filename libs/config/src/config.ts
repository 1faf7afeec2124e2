import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseCidrList } from './cidr.js';

/**
 * Every setting comes from the environment, is validated once at start-up, and a bad one stops
 * the process with a message that names it. Defaults give a working embedded installation.
 */

// Cloud metadata endpoints and link-local ranges: a gateway must not be a way into them.
const DEFAULT_TARGET_DENY = '169.254.0.0/16, fe80::/10, 100.100.100.200/32, fd00:ec2::254/128';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const url = z.url({ error: 'must be a URL, e.g. postgresql://user@host:5432/db' });
const cidrs = z.string().transform((value, ctx) => {
  try {
    return parseCidrList(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const schema = z.object({
  DATABASE_URL: url.optional(),
  REDIS_URL: z.url({ error: 'must be a URL, e.g. redis://host:6379' }).optional(),
  SALLYPORT_HOST: z.string().min(1).default('127.0.0.1'),
  SALLYPORT_PORT: int(0, 65535).default(8443),
  SALLYPORT_PUBLIC_URL: z.url({ error: 'must be a URL, e.g. https://ssh.example.com' }).optional(),
  SALLYPORT_ALLOWED_ORIGINS: z.string().default(''),
  SALLYPORT_TRUST_PROXY: bool.default(false),
  SALLYPORT_DATA_DIR: z.string().min(1).default('./data'),
  SALLYPORT_SECRET_KEY: z.string().optional(),
  SALLYPORT_SECRET_KEYS_PREVIOUS: z.string().default(''),
  SALLYPORT_ADMIN_USER: z.string().min(1).max(64).optional(),
  SALLYPORT_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  SALLYPORT_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  SALLYPORT_BUS_PREFIX: z.string().min(1).default('sp:'),
  SALLYPORT_LOGIN_SESSION_HOURS: int(1, 24 * 90).default(12),
  SALLYPORT_LOGIN_FAILURES_PER_USER: int(1, 10_000).default(10),
  SALLYPORT_LOGIN_FAILURES_PER_IP: int(1, 100_000).default(50),
  SALLYPORT_CONNECTS_PER_MINUTE: int(1, 100_000).default(60),
  SALLYPORT_WORKER_ID: z.string().min(1).optional(),
  SALLYPORT_WORKER_MAX_SESSIONS: int(1, 100_000).default(500),
  SALLYPORT_WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  SALLYPORT_WORKER_HTTP_PORT: int(0, 65535).default(9101),
  SALLYPORT_SSH_CONNECT_TIMEOUT_MS: int(1_000, 120_000).default(10_000),
  SALLYPORT_SSH_KEEPALIVE_MS: int(1_000, 300_000).default(15_000),
  SALLYPORT_OPEN_TIMEOUT_MS: int(1_000, 300_000).default(30_000),
  SALLYPORT_SESSION_IDLE_TIMEOUT_S: int(1, 7 * 24 * 3600).default(2 * 3600),
  SALLYPORT_FLOW_WINDOW_BYTES: int(64 * 1024, 256 * 1024 * 1024).default(1024 * 1024),
  // At least 1: xterm 6.0's headless terminal with no history throws from its parser on some
  // resizes, and that would end the worker with every session on it.
  SALLYPORT_SCREEN_SCROLLBACK_LINES: int(1, 100_000).default(100),
  SALLYPORT_SCREEN_COMPACT_AFTER_S: int(0, 24 * 3600).default(10),
  SALLYPORT_MAX_SESSIONS_PER_USER: int(1, 100_000).default(20),
  SALLYPORT_MAX_SESSIONS: int(1, 10_000_000).default(10_000),
  SALLYPORT_RECORDING_DIR: z.string().min(1).optional(),
  SALLYPORT_RECORDING_RETENTION_DAYS: int(0, 36_500).default(0),
  SALLYPORT_RECORDING_CHUNK_BYTES: int(1024, 16 * 1024 * 1024).default(64 * 1024),
  SALLYPORT_RECORDER_ID: z.string().min(1).optional(),
  SALLYPORT_RECORDER_MAX_SESSIONS: int(1, 100_000).default(1_000),
  SALLYPORT_RECORDER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  SALLYPORT_RECORDER_HTTP_PORT: int(0, 65535).default(9103),
  SALLYPORT_HOST_KEY_POLICY: z.enum(['tofu', 'strict']).default('tofu'),
  SALLYPORT_TARGET_ALLOW: cidrs.optional(),
  SALLYPORT_TARGET_DENY: cidrs.default(parseCidrList(DEFAULT_TARGET_DENY)),
  SALLYPORT_INTERNAL_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
    .optional(),
  SALLYPORT_SFTP_WORKER_URL: z
    .url({ error: 'must be a URL, e.g. http://sftp-worker:9102' })
    .refine((u) => /^https?:/.test(u), 'must be an http or https URL')
    .optional(),
  SALLYPORT_SFTP_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  SALLYPORT_SFTP_HTTP_PORT: int(0, 65535).default(9102),
  SALLYPORT_SFTP_IDLE_TTL_MS: int(1_000, 86_400_000).default(300_000),
  SALLYPORT_SFTP_OP_TIMEOUT_MS: int(1_000, 600_000).default(20_000),
  SALLYPORT_SFTP_MAX_UPLOAD_MB: int(1, 1_048_576).default(10_240),
  SALLYPORT_SFTP_MAX_ZIP_MB: int(1, 1_048_576).default(4_096),
  SALLYPORT_SFTP_MAX_TRANSFERS_PER_USER: int(1, 1_000).default(4),
});

export type Config = ReturnType<typeof toConfig>;

/** Thrown with one line per bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables are treated as unset, as shells and compose files often leave them.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
      ),
    );
  }
  const cfg = toConfig(parsed.data);
  if ((cfg.adminUser === undefined) !== (cfg.adminPassword === undefined)) {
    throw new ConfigError([
      'SALLYPORT_ADMIN_USER and SALLYPORT_ADMIN_PASSWORD: set both to bootstrap an admin, or neither',
    ]);
  }
  return cfg;
}

function toConfig(e: z.infer<typeof schema>) {
  const publicUrl = new URL(
    e.SALLYPORT_PUBLIC_URL ?? `http://${hostForUrl(e.SALLYPORT_HOST)}:${e.SALLYPORT_PORT}`,
  );
  const extraOrigins = e.SALLYPORT_ALLOWED_ORIGINS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const recordingDir = path.resolve(
    e.SALLYPORT_RECORDING_DIR ?? path.join(e.SALLYPORT_DATA_DIR, 'recordings'),
  );
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    dataDir: path.resolve(e.SALLYPORT_DATA_DIR),
    logLevel: e.SALLYPORT_LOG_LEVEL,
    secretKey: e.SALLYPORT_SECRET_KEY,
    previousSecretKeys: e.SALLYPORT_SECRET_KEYS_PREVIOUS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    adminUser: e.SALLYPORT_ADMIN_USER,
    adminPassword: e.SALLYPORT_ADMIN_PASSWORD,
    busPrefix: e.SALLYPORT_BUS_PREFIX,
    gateway: {
      host: e.SALLYPORT_HOST,
      port: e.SALLYPORT_PORT,
      publicUrl: publicUrl.origin,
      /** Origins allowed for WebSockets and state-changing requests. */
      allowedOrigins: [publicUrl.origin, ...extraOrigins],
      /** Set cookies Secure when the public URL is https. */
      secureCookies: publicUrl.protocol === 'https:',
      trustProxy: e.SALLYPORT_TRUST_PROXY,
      loginSessionHours: e.SALLYPORT_LOGIN_SESSION_HOURS,
      openTimeoutMs: e.SALLYPORT_OPEN_TIMEOUT_MS,
      /** Failed logins allowed per username and per client address in 15 minutes. */
      loginFailuresPerUser: e.SALLYPORT_LOGIN_FAILURES_PER_USER,
      loginFailuresPerIp: e.SALLYPORT_LOGIN_FAILURES_PER_IP,
      /** Terminal opens and connection tests allowed per user per minute. */
      connectsPerMinute: e.SALLYPORT_CONNECTS_PER_MINUTE,
      /** Shown with each server's pinned host key (the workers apply it). */
      hostKeyPolicy: e.SALLYPORT_HOST_KEY_POLICY,
      /** The workers' flow window (`session.flowWindowBytes`): acks go on in steps of a quarter. */
      flowWindowBytes: e.SALLYPORT_FLOW_WINDOW_BYTES,
      /** Open sessions allowed per user and in all. */
      sessionLimits: {
        maxPerUser: e.SALLYPORT_MAX_SESSIONS_PER_USER,
        maxTotal: e.SALLYPORT_MAX_SESSIONS,
      },
      /** Recordings are played back from here (the recorders' store). */
      recordingDir,
    },
    worker: {
      id: e.SALLYPORT_WORKER_ID ?? `${hostname()}-${process.pid}`,
      maxSessions: e.SALLYPORT_WORKER_MAX_SESSIONS,
      httpHost: e.SALLYPORT_WORKER_HTTP_HOST,
      httpPort: e.SALLYPORT_WORKER_HTTP_PORT,
    },
    session: {
      /** A detached session (nobody attached) ends after this. */
      idleTimeoutMs: e.SALLYPORT_SESSION_IDLE_TIMEOUT_S * 1000,
      /** The shell pauses while a controlling client is this many bytes behind. */
      flowWindowBytes: e.SALLYPORT_FLOW_WINDOW_BYTES,
      /** A socket whose gateway sent no heartbeat for this long is dropped. */
      attachmentTimeoutMs: 15_000,
      /** History the worker keeps for joiners and returning owners; each line costs memory. */
      scrollbackLines: e.SALLYPORT_SCREEN_SCROLLBACK_LINES,
      /** A screen with no output for this long is kept as the sequences that redraw it; 0: never. */
      screenCompactAfterMs: e.SALLYPORT_SCREEN_COMPACT_AFTER_S * 1000,
    },
    recording: {
      /** Where recordings are stored; recorders write there and gateways read it. */
      dir: recordingDir,
      /** Recordings older than this many days are deleted; 0 keeps them. */
      retentionDays: e.SALLYPORT_RECORDING_RETENTION_DAYS,
      /** Plaintext bytes per encrypted chunk. */
      chunkBytes: e.SALLYPORT_RECORDING_CHUNK_BYTES,
    },
    recorder: {
      id: e.SALLYPORT_RECORDER_ID ?? `${hostname()}-${process.pid}`,
      maxSessions: e.SALLYPORT_RECORDER_MAX_SESSIONS,
      httpHost: e.SALLYPORT_RECORDER_HTTP_HOST,
      httpPort: e.SALLYPORT_RECORDER_HTTP_PORT,
    },
    ssh: {
      connectTimeoutMs: e.SALLYPORT_SSH_CONNECT_TIMEOUT_MS,
      keepaliveIntervalMs: e.SALLYPORT_SSH_KEEPALIVE_MS,
      hostKeyPolicy: e.SALLYPORT_HOST_KEY_POLICY,
      targetAllow: e.SALLYPORT_TARGET_ALLOW,
      targetDeny: e.SALLYPORT_TARGET_DENY,
    },
    /** Signs what the gateway forwards to the sftp-worker; shared by both. */
    internalSecret: e.SALLYPORT_INTERNAL_SECRET,
    sftp: {
      /** Where gateways find the sftp-worker (distributed mode); unset, Files are unavailable. */
      workerUrl: e.SALLYPORT_SFTP_WORKER_URL?.replace(/\/+$/, ''),
      /** The sftp-worker's own port: its internal API, /healthz, /readyz and /metrics. */
      httpHost: e.SALLYPORT_SFTP_HTTP_HOST,
      httpPort: e.SALLYPORT_SFTP_HTTP_PORT,
      /** A pooled SFTP connection unused this long is closed. */
      idleTtlMs: e.SALLYPORT_SFTP_IDLE_TTL_MS,
      /** Every SFTP request must be answered within this, or the connection is dropped. */
      opTimeoutMs: e.SALLYPORT_SFTP_OP_TIMEOUT_MS,
      maxUploadBytes: e.SALLYPORT_SFTP_MAX_UPLOAD_MB * 1024 * 1024,
      /** The most file bytes a folder download (ZIP) may contain. */
      maxZipBytes: e.SALLYPORT_SFTP_MAX_ZIP_MB * 1024 * 1024,
      /** Uploads and downloads one user may run at once, per sftp-worker replica. */
      maxTransfersPerUser: e.SALLYPORT_SFTP_MAX_TRANSFERS_PER_USER,
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
