import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor, type ServiceHandle } from './harness/processes.js';
import { ApiClient } from './support/api.js';
import { writeBigRecording } from './support/big-recording.js';
import {
  asciinemaCat,
  auditEvents,
  finalisationQueue,
  getText,
  outputOf,
  ownMountOf,
  parseCast,
  recordingDigest,
  recordingOf,
  setReadOnly,
} from './support/recordings.js';
import { startDistributed, type Distributed } from './support/sallyport.js';
import { marker, sshdServer } from './support/target.js';
import { TerminalClient } from './support/terminal-client.js';

// Session recording in distributed mode: gateway, two session workers and a recorder as
// separate processes on Redis and PostgreSQL, the recorder in a mount namespace of its own so
// the test can turn its store read-only. Small chunks, so a few lines of output make several.
const sshd = inject('sshd');
const PASSWORD = 'recording-password-1';

let cluster: Distributed;
let recorder: ServiceHandle;
let serverId: string;
const users: Record<'bob' | 'audrey', ApiClient> = {} as never;

beforeAll(async () => {
  cluster = await startDistributed({
    gateways: 1,
    workers: 2,
    env: { SALLYPORT_RECORDING_CHUNK_BYTES: '1024' },
  });
  recorder = await startRecorder('recorder-1');
  const admin = cluster.admin;
  serverId = (await admin.createServer(sshdServer(sshd))).id;
  expect(
    (await admin.request('PUT', '/api/recording-policies/global', { enabled: true })).status,
  ).toBe(200);
  for (const [name, role] of [
    ['bob', 'user'],
    ['audrey', 'auditor'],
  ] as const) {
    await admin.createUser({ username: name, password: PASSWORD, role });
    users[name] = await ApiClient.loggedIn(admin.baseUrl, name, PASSWORD);
  }
});
afterAll(() => cluster?.stop());

const startRecorder = (id: string) =>
  cluster.addRecorder(id, { wrap: ownMountOf(cluster.recordingDir) });

const open = async (server = serverId, cols = 80, rows = 24) => {
  const term = await TerminalClient.open(
    cluster.admin.baseUrl,
    { serverId: server, cols, rows },
    { cookie: cluster.admin.cookie, origin: cluster.admin.origin },
  );
  await term.waitForControl('ready');
  return term;
};

/** Ends the session from its shell and waits until its recording is finished. */
const finish = async (owner: TerminalClient, status = 'complete') => {
  owner.type('exit\n');
  await owner.waitForControl('exit');
  return recordingOf(cluster.admin, owner.sessionId, (r) => r.status === status, 60_000);
};

/** Prints a new marker and waits until it is on screen and the recording has begun. */
const printMarker = async (owner: TerminalClient, label: string) => {
  const text = marker(label);
  owner.type(`echo ${text}\n`);
  await owner.waitForOutput(`\n${text}\r\n`);
  await recordingOf(cluster.admin, owner.sessionId, (r) => r.sizeBytes > 0);
  return text;
};

const castOf = async (client: ApiClient, id: string) => {
  const res = await getText(client, `/api/recordings/${id}/download`);
  expect(res.status).toBe(200);
  return res.text;
};

describe('recording in distributed mode', () => {
  it('records a shared session once, as a cast that asciinema cat accepts, with its resizes', async () => {
    const owner = await open();
    // Put together by printf, so the text is on screen once (the command line shows its parts:
    // how often a shell echoes a command typed ahead of its prompt varies).
    const text = marker('recorded-text');
    owner.type(`printf '%s%s\\n' ${text.slice(0, 5)} ${text.slice(5)}\n`);
    await owner.waitForOutput(`\n${text}\r\n`);

    // Bob joins through a share link: still one recording, with bob among the participants.
    const link = await cluster.admin.request('POST', `/api/sessions/${owner.sessionId}/shares`, {
      mode: 'view',
    });
    const token = new URL(link.body.url as string).hash.slice(1);
    const redeemed = await users.bob.request('POST', '/api/shares/redeem', { token });
    const joiner = await TerminalClient.open(
      users.bob.baseUrl,
      { sessionId: redeemed.body.sessionId as string },
      { cookie: users.bob.cookie, origin: users.bob.origin },
    );
    await joiner.waitForControl('snapshot');

    owner.sendControl({ type: 'resize', cols: 100, rows: 30 });
    owner.type('stty size\n');
    await owner.waitForOutput('\n30 100\r\n');
    const recording = await finish(owner);
    expect(recording).toMatchObject({ cols: 80, rows: 24, gaps: 0, username: 'admin' });
    expect(recording.participants).toEqual(['admin', 'bob']);
    const all = await cluster.admin.request('GET', `/api/recordings?sessionId=${owner.sessionId}`);
    expect(all.body.recordings).toHaveLength(1);

    const download = await getText(cluster.admin, `/api/recordings/${recording.id}/download`);
    expect(download.headers.get('content-disposition')).toMatch(/attachment; filename=".+\.cast"/);
    const { header, events } = parseCast(download.text);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(events).toContainEqual([expect.any(Number), 'r', '100x30']);
    const times = events.map(([t]) => t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Byte for byte what the owner's terminal received.
    expect(outputOf(events)).toBe(owner.output);
    const printed = await asciinemaCat(download.text);
    expect(printed).toContain(`${text}\r\n`);
    expect(printed).toContain('30 100');

    const plain = await getText(cluster.admin, `/api/recordings/${recording.id}/text`);
    expect(plain.text).toContain(`${text}\n`);
    const search = await cluster.admin.request(
      'GET',
      `/api/recordings/${recording.id}/search?q=${text.toUpperCase()}`,
    );
    expect(search.body.hits).toEqual([{ time: expect.any(Number), context: text }]);
  });

  it('shows a recording only to its owner, admins and auditors, and audits every access', async () => {
    const owner = await open();
    const recording = await finish(owner);

    const bobList = await users.bob.request('GET', '/api/recordings');
    const ids = (list: { body: { recordings: { id: string }[] } }) =>
      list.body.recordings.map((r) => r.id);
    expect(ids(bobList)).not.toContain(recording.id);
    for (const suffix of ['', '/cast', '/download', '/text', '/search?q=x']) {
      const res = await getText(users.bob, `/api/recordings/${recording.id}${suffix}`);
      expect(res.status, suffix).toBe(404);
      expect(JSON.parse(res.text).error.message).toBe('recording not found');
    }
    const missing = await getText(users.bob, `/api/recordings/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);

    const auditorList = await users.audrey.request('GET', '/api/recordings');
    expect(ids(auditorList)).toContain(recording.id);
    expect((await getText(users.audrey, `/api/recordings/${recording.id}/cast`)).status).toBe(200);
    const plays = await auditEvents(cluster.db.url, 'recording.play');
    expect(plays).toContainEqual(
      expect.objectContaining({ actor_name: 'audrey', target_id: recording.id }),
    );
    expect(await auditEvents(cluster.db.url, 'recording.download')).toContainEqual(
      expect.objectContaining({ actor_name: 'admin' }),
    );
  });

  it('refuses a flipped byte, a truncation and swapped chunks, and audits each refusal', async () => {
    const owner = await open();
    // Output in separate bursts, so that it arrives as several events and fills several chunks
    // (the worker sends what arrives in one event-loop turn as one).
    owner.type('for i in 1 2 3 4 5 6; do seq 1 500; sleep 0.1; done; echo bursts-$((2*3))\n');
    await owner.waitForOutput('\nbursts-6\r\n');
    const recording = await finish(owner);
    const file = path.join(cluster.recordingDir, `${recording.id}.sprec`);
    const original = await readFile(file);
    const intact = await castOf(cluster.admin, recording.id);
    const frames = chunkFrames(original);
    expect(frames.length).toBeGreaterThanOrEqual(4);

    const tamperings: Array<[string, () => Promise<void>]> = [
      [
        'flip',
        async () => {
          const copy = Buffer.from(original);
          copy[Math.floor(copy.length / 2)]! ^= 0x01;
          await writeFile(file, copy);
        },
      ],
      ['truncate', () => truncate(file, original.length - frames.at(-1)!.length)],
      [
        'swap',
        () => {
          const [a, b] = [frames[1]!, frames[2]!];
          return writeFile(
            file,
            Buffer.concat([
              original.subarray(0, a.start),
              b.bytes,
              a.bytes,
              original.subarray(b.end),
            ]),
          );
        },
      ],
    ];
    const before = (await auditEvents(cluster.db.url, 'recording.integrity_failed')).length;
    for (const [name, tamper] of tamperings) {
      await tamper();
      for (const what of ['cast', 'download']) {
        const res = await getText(cluster.admin, `/api/recordings/${recording.id}/${what}`);
        expect(res.status, `${name} ${what}`).toBe(500);
        expect(JSON.parse(res.text).error.message).toBe('recording integrity check failed');
      }
      await writeFile(file, original);
    }
    const refusals = await auditEvents(cluster.db.url, 'recording.integrity_failed');
    expect(refusals.length - before).toBe(tamperings.length * 2);
    expect(await castOf(cluster.admin, recording.id)).toBe(intact);
  });

  it('best effort: a read-only store leaves a visible gap and the session goes on', async () => {
    const server = await cluster.admin.createServer(sshdServer(sshd));
    await cluster.admin.request('PUT', `/api/recording-policies/servers/${server.id}`, {
      enabled: true,
      mode: 'best_effort',
    });
    const owner = await open(server.id);
    const before = await printMarker(owner, 'before-gap');
    await setReadOnly(recorder.proc.pid!, cluster.recordingDir, true);
    try {
      const lost = marker('lost');
      owner.type(`echo ${lost}\n`);
      await owner.waitForOutput(`\n${lost}\r\n`);
      await recordingOf(cluster.admin, owner.sessionId, (r) => r.gaps > 0);
    } finally {
      await setReadOnly(recorder.proc.pid!, cluster.recordingDir, false);
    }
    const after = marker('after-gap');
    owner.type(`echo ${after}\n`);
    await owner.waitForOutput(`\n${after}\r\n`);
    const recording = await finish(owner);
    // The session was never interrupted: it ended when its shell did.
    expect(owner.control.find((m) => m.type === 'exit')).toMatchObject({ reason: 'exit' });
    expect(recording.gaps).toBe(1);
    const { events } = parseCast(await castOf(cluster.admin, recording.id));
    const output = outputOf(events);
    expect(output).toContain(`${before}\r\n`);
    expect(output).toContain(`${after}\r\n`);
    expect(events).toContainEqual([
      expect.any(Number),
      'm',
      expect.stringMatching(/^gap: output from .* could not be stored \(EROFS\)$/),
    ]);
    expect(await auditEvents(cluster.db.url, 'recording.gap')).toContainEqual(
      expect.objectContaining({ target_id: recording.id }),
    );
  });

  it('plays and downloads a 200 MB recording while the gateway stays within bounded memory', async () => {
    const { id, castBytes } = await writeBigRecording({
      databaseUrl: cluster.db.url,
      recordingDir: cluster.recordingDir,
      secretKey: cluster.secretKey,
      username: 'admin',
      bytes: 200 * 1024 * 1024,
    });
    const gateway = cluster.gateways[0]!.proc.pid!;
    for (const what of ['cast', 'download']) {
      const before = rss(gateway);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss(gateway))), 25);
      let received = 0;
      try {
        const res = await fetch(`${cluster.admin.baseUrl}/api/recordings/${id}/${what}`, {
          headers: { cookie: cluster.admin.cookie },
        });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        for (let read = await reader.read(); !read.done; read = await reader.read())
          received += read.value.length;
      } finally {
        clearInterval(sampler);
      }
      expect(received, what).toBe(castBytes);
      const growth = peak - before;
      expect(
        growth,
        `${what}: the gateway grew by ${Math.round(growth / 1048576)} MB`,
      ).toBeLessThan(64 * 1024 * 1024);
    }
  });

  let strictServerId: string;

  it('strict: a read-only store ends the session with a clear message', async () => {
    const server = await cluster.admin.createServer(sshdServer(sshd));
    strictServerId = server.id;
    await cluster.admin.request('PUT', `/api/recording-policies/servers/${server.id}`, {
      enabled: true,
      mode: 'strict',
    });
    const owner = await open(server.id);
    await printMarker(owner, 'started');
    await setReadOnly(recorder.proc.pid!, cluster.recordingDir, true);
    try {
      owner.type('echo not-kept\n');
      const exit = await owner.waitForControl('exit', 15_000);
      expect(exit).toMatchObject({
        reason: 'recording_failed',
        message:
          'the session was ended: its recording could not be stored (EROFS), and the recording policy is strict',
      });
    } finally {
      await setReadOnly(recorder.proc.pid!, cluster.recordingDir, false);
    }
    // The row is written after the clients are told.
    await expect
      .poll(() => cluster.admin.session(owner.sessionId), { timeout: 10_000 })
      .toMatchObject({ status: 'ended', endReason: 'recording_failed' });
  });

  it('strict: ends a session that no recorder is recording', async () => {
    recorder.kill('SIGKILL');
    await recorder.exited;
    try {
      const owner = await open(strictServerId);
      expect(await owner.waitForControl('exit', 30_000)).toMatchObject({
        reason: 'recording_failed',
        message:
          'the session was ended: no recorder is recording it, and the recording policy is strict',
      });
    } finally {
      recorder = await startRecorder('recorder-2');
    }
  });

  it('outlives killed recorders, mid-session and with its finalisation pending: byte for byte', async () => {
    const owner = await open();
    await printMarker(owner, 'first');
    recorder.kill('SIGKILL');
    await recorder.exited;

    const unrecorded = marker('while-no-recorder');
    owner.type(`seq 1 500; echo ${unrecorded}\n`);
    await owner.waitForOutput(`\n${unrecorded}\r\n`);
    recorder = await startRecorder('recorder-3');
    const last = marker('last');
    owner.type(`echo ${last}\n`);
    await owner.waitForOutput(`\n${last}\r\n`);

    // With the finalisation queue paused (as an operator can), the job waits in BullMQ; the
    // recorder that asked for it dies, and the next one runs that same job.
    const finalisations = finalisationQueue(cluster.prefix);
    try {
      await finalisations.queue.pause();
      const recording = await finish(owner);
      const pending = await waitFor(() => finalisations.jobOf(recording.id), {
        description: 'the finalisation job',
      });
      expect(pending.state).toBe('waiting');
      recorder.kill('SIGKILL');
      await recorder.exited;
      recorder = await startRecorder('recorder-4');
      await finalisations.queue.resume();
      await expect
        .poll(() => finalisations.jobOf(recording.id).then((j) => j?.state), { timeout: 30_000 })
        .toBe('completed');
      const done = (await finalisations.jobOf(recording.id))!.job;
      expect(done.id).toBe(pending.job.id);
      expect(done.data).toEqual({ recordingId: recording.id });
      const file = await readFile(path.join(cluster.recordingDir, `${recording.id}.sprec`));
      expect(await recordingDigest(cluster.db.url, recording.id)).toBe(
        createHash('sha256').update(file).digest('hex'),
      );

      expect(recording.gaps).toBe(0);
      const cast = await castOf(cluster.admin, recording.id);
      expect(outputOf(parseCast(cast).events)).toBe(owner.output);
      expect(await asciinemaCat(cast)).toContain(`${unrecorded}\r\n`);
    } finally {
      await finalisations.queue.resume();
      await finalisations.close();
    }
  });

  it('finalises the recording of a session whose worker died as incomplete, playable to that point', async () => {
    const owner = await open();
    const seen = await printMarker(owner, 'before-the-end');
    const row = await cluster.admin.session(owner.sessionId);
    cluster.workers.find((w) => w.name === `worker-${row.workerId}`)!.kill('SIGKILL');
    await owner.waitForControl('exit', 15_000);

    const recording = await recordingOf(
      cluster.admin,
      owner.sessionId,
      (r) => r.status !== 'recording',
    );
    expect(recording.status).toBe('incomplete');
    const cast = await castOf(cluster.admin, recording.id);
    const { events } = parseCast(cast);
    expect(outputOf(events)).toBe(owner.output);
    expect(events.at(-1)).toEqual([
      expect.any(Number),
      'm',
      "recording incomplete: the session's worker was lost",
    ]);
    expect(await asciinemaCat(cast)).toContain(`${seen}\r\n`);
  });
});

/** Resident memory of a process, in bytes. */
function rss(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
}

/** The chunks of a recording file: where each starts and ends (see libs/recording). */
function chunkFrames(
  file: Buffer,
): { start: number; end: number; bytes: Buffer; length: number }[] {
  const keyIdLength = file[6]!;
  let at = 7 + keyIdLength + 36;
  const frames = [];
  while (at < file.length) {
    const end = at + 4 + file.readUInt32BE(at);
    frames.push({ start: at, end, bytes: file.subarray(at, end), length: end - at });
    at = end;
  }
  return frames;
}
