// Helpers for tests of recordings: reading them over the API as a user would, and handling
// the recorder's store from outside.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { waitFor } from '../harness/processes.js';
import { REDIS_URL } from '../harness/redis.js';
import type { ApiClient } from './api.js';

const exec = promisify(execFile);

export type CastEvent = [number, string, string];

/** The session's recording once `ready` holds for it (e.g. it has chunks, or is complete). */
export function recordingOf(
  client: ApiClient,
  sessionId: string,
  ready: (r: Record<string, any>) => boolean = (r) => r.status !== 'recording',
  timeoutMs = 30_000,
): Promise<Record<string, any>> {
  return waitFor(
    async () => {
      const res = await client.request('GET', `/api/recordings?sessionId=${sessionId}`);
      const [recording] = res.body.recordings as Record<string, any>[];
      return recording && ready(recording) ? recording : undefined;
    },
    { timeoutMs, description: `the recording of session ${sessionId}` },
  );
}

/** GET as text (casts are not JSON), with the client's cookie. */
export async function getText(
  client: ApiClient,
  urlPath: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(client.baseUrl + urlPath, { headers: { cookie: client.cookie } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function parseCast(text: string): { header: Record<string, any>; events: CastEvent[] } {
  const [header, ...events] = text.trimEnd().split('\n');
  return { header: JSON.parse(header!), events: events.map((l) => JSON.parse(l) as CastEvent) };
}

/** Everything the terminal showed: the output events, joined. */
export const outputOf = (events: CastEvent[]) =>
  events
    .filter(([, code]) => code === 'o')
    .map(([, , data]) => data)
    .join('');

/**
 * `asciinema cat` on the cast (Debian's asciinema): what it prints, or it throws. It insists on
 * a terminal (it opens /dev/tty), so it runs under util-linux's `script`, which gives it one.
 */
export async function asciinemaCat(cast: string): Promise<string> {
  const file = path.join(tmpdir(), `sallyport-${Math.random().toString(36).slice(2)}.cast`);
  await writeFile(file, cast);
  try {
    const { stdout } = await exec('script', ['-qec', `asciinema cat ${file}`, '/dev/null'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    // asciinema's own complaint reaches script's stdout, through the terminal script gave it.
    const {
      code,
      signal,
      stdout = '',
    } = error as { code?: number; signal?: string; stdout?: string };
    throw new Error(
      `asciinema cat failed (exit ${code ?? '-'}, signal ${signal ?? '-'}): ${stdout.slice(-2000)}`,
    );
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Runs a service in a mount namespace of its own where `dir` is a bind mount, so the test can
 * make the directory read-only for that process alone (root ignores file permissions).
 */
export const ownMountOf = (dir: string): string[] => [
  'unshare',
  '--mount',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount --bind "$0" "$0" && exec "$@"',
  dir,
];

/** Remounts `dir` read-only or writable inside the mount namespace of process `pid`. */
export async function setReadOnly(pid: number, dir: string, readOnly: boolean): Promise<void> {
  await exec('nsenter', [
    '-t',
    String(pid),
    '-m',
    'mount',
    '-o',
    `remount,bind,${readOnly ? 'ro' : 'rw'}`,
    dir,
  ]);
}

/** Audit events with this action, from the cluster's PostgreSQL. */
export function auditEvents(databaseUrl: string, action: string): Promise<Record<string, any>[]> {
  return query(
    databaseUrl,
    'SELECT actor_name, action, target_id, details FROM audit_events WHERE action = $1 ORDER BY seq',
    [action],
  );
}

/** The digest finalisation fixed for a recording (null until then). */
export async function recordingDigest(databaseUrl: string, id: string): Promise<string | null> {
  const [row] = await query(databaseUrl, 'SELECT digest FROM recordings WHERE id = $1', [id]);
  return (row?.digest as string | null) ?? null;
}

async function query(
  databaseUrl: string,
  sql: string,
  params: unknown[],
): Promise<Record<string, any>[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The recorders' finalisation queue, through BullMQ's own API as an operator's tools would
 * open it: `<bus prefix>jobs`, queue "recording-finalise", one job per recording.
 */
export function finalisationQueue(busPrefix: string) {
  const connection = new Redis(REDIS_URL);
  const queue = new Queue('recording-finalise', { connection, prefix: `${busPrefix}jobs` });
  return {
    queue,
    /** The job of one recording (deduplicated by its id), in whatever state it is. */
    async jobOf(recordingId: string): Promise<{ job: Job; state: string } | undefined> {
      const jobs = await queue.getJobs(['wait', 'delayed', 'active', 'completed', 'failed']);
      const job = jobs.find((j) => j.deduplicationId === recordingId);
      return job && { job, state: await job.getState() };
    },
    async close(): Promise<void> {
      await queue.close();
      await connection.quit();
    },
  };
}
