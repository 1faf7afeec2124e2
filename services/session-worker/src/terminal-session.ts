import type { Socket } from 'node:net';
import type { ClientChannel, Client as SshClient } from 'ssh2';
import type { EndReason, InputMessage, OpenRequest, SessionBus } from '@sallyport/bus';
import { appendAuditEvent, type PrismaClient, type Server } from '@sallyport/db';
import { NOT_RECORDED, resolveRecordingPolicy, type EffectivePolicy } from '@sallyport/recording';
import { oneSessionOnly, type ServerConnectDeps, type StartedSocket } from '@sallyport/ssh';
import type { Logger } from '@sallyport/log';
import type { HeadStarts } from './head-starts.js';
import { PAUSE_REASONS, type PauseReason, type WorkerMetrics } from './metrics.js';
import { Participants } from './participants.js';
import {
  notRecording,
  startRecording,
  type RecordingDeps,
  type SessionRecorder,
} from './recording.js';
import { OutputBatch } from './output-batch.js';
import { HeadlessScreen } from './screen.js';
import { connectForSession, type SessionConnectResult } from './session-connect.js';

type Login = SessionConnectResult<EffectivePolicy>;

export interface SessionDeps extends ServerConnectDeps, RecordingDeps {
  workerId: string;
  prisma: PrismaClient;
  bus: SessionBus;
  log: Logger;
  metrics: WorkerMetrics;
  session: SessionSettings;
  headStarts: HeadStarts;
}

export interface SessionSettings {
  /** A session with nobody attached for this long ends. */
  idleTimeoutMs: number;
  /** The SSH channel pauses while a controlling client is this far behind. */
  flowWindowBytes: number;
  /** A socket whose gateway sent no heartbeat for this long is dropped. */
  attachmentTimeoutMs: number;
  /** Lines of history the headless screen keeps for joiners (about 1.4 KB each per session). */
  scrollbackLines: number;
  /** A screen with no output for this long gives up its terminal (HeadlessScreen); 0: never. */
  screenCompactAfterMs: number;
}

// Output waiting to be published, or to be parsed by the headless screen, beyond these pauses
// the SSH channel too, so neither a slow bus nor a screen that parses more slowly than the
// shell prints grows this process's memory without bound.
const PAUSE_AT_UNPUBLISHED_BYTES = 1024 * 1024;
const PAUSE_AT_UNPARSED_BYTES = 1024 * 1024;
// The largest output message: big enough that bulk output costs few messages, small enough that
// a browser renders one without a visible stall.
const MAX_OUTPUT_MESSAGE_BYTES = 64 * 1024;
const SWEEP_INTERVAL_MS = 5_000;

/**
 * One terminal session owned by this worker. It holds the SSH connection, the shell and a
 * headless copy of the screen; publishes output and resizes as one sequenced stream; answers
 * every attaching socket with a snapshot; applies input only from users with control; pauses
 * the shell while a controlling client falls behind; and records how the session ended.
 * `end()` is idempotent and runs every cleanup step.
 */
export class TerminalSession {
  readonly id: string;
  private readonly log: Logger;
  private readonly participants: Participants;
  private readonly screen: HeadlessScreen;
  /** Output not yet in the stream: everything that must follow it in order flushes it first. */
  private readonly output = new OutputBatch(
    (chunks, bytes) => this.onOutput(chunks, bytes),
    MAX_OUTPUT_MESSAGE_BYTES,
  );
  /** Set once the shell is about to open, if the server's recording policy says so. */
  private recorder: SessionRecorder = notRecording;
  private client: SshClient | undefined;
  private channel: ClientChannel | undefined;
  /** Sequence of the last output or resize published. */
  private seq = 0;
  /** Output bytes published so far: the stream offset acknowledgements refer to. */
  private offset = 0;
  private bytesIn = 0;
  private unpublishedBytes = 0;
  /** While the shell is paused: why (the limit it was furthest over) and since when. */
  private pause: { reason: PauseReason; since: number } | undefined;
  private size: { cols: number; rows: number };
  private exitStatus: { code: number | null; signal: string | null } = { code: null, signal: null };
  /** Whether the session may open: at once, or once its gateway says (`awaitsAdmission`). */
  private readonly admitted: Promise<boolean>;
  private settleAdmission: (admitted: boolean) => void = () => undefined;
  /** Whether the session.start audit event was written, once it is being written. */
  private startAudited: Promise<boolean> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private ending: Promise<void> | undefined;
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  /**
   * @param serverLookup the row of the server asked for (null if it no longer exists), still
   *   being read: the worker reads it while it claims the session; a failed read ends the session
   * @param headStart a TCP connection to where the server's last session went, started with the
   *   lookup (HeadStarts); the session uses it or closes it
   */
  constructor(
    private readonly request: OpenRequest,
    private readonly serverLookup: Promise<Server | null>,
    private readonly deps: SessionDeps,
    private readonly headStart?: StartedSocket,
  ) {
    this.id = request.sessionId;
    this.size = { cols: request.cols, rows: request.rows };
    this.log = deps.log.child({ sessionId: request.sessionId, kind: request.kind });
    this.participants = new Participants({ userId: request.userId, username: request.username });
    this.participants.attach(
      {
        attachId: request.attachId,
        userId: request.userId,
        username: request.username,
        role: 'owner',
        via: 'owner',
      },
      0,
    );
    this.screen = new HeadlessScreen(request.cols, request.rows, {
      scrollback: deps.session.scrollbackLines,
      compactAfterMs: deps.session.screenCompactAfterMs,
      onParsed: () => this.updateFlow(),
    });
    this.admitted = request.awaitsAdmission
      ? new Promise((resolve) => (this.settleAdmission = resolve))
      : Promise.resolve(true);
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Whether the session's screen is compacted now (it has had no output for a while). */
  get screenCompacted(): boolean {
    return this.screen.isCompacted;
  }

  /** Resolves when the session has ended and been cleaned up. */
  get ended(): Promise<void> {
    return this.endedPromise;
  }

  /**
   * Takes the session, resolving once it is taken (or has ended). Connecting to the server
   * starts at the same time: it is the slow part of opening, and needs nothing from the take
   * until it logs in, which waits for the session to be admitted. The shell opens in the
   * background once both are done.
   */
  async start(): Promise<void> {
    const { bus } = this.deps;
    this.timers.push(setInterval(() => void this.renewLease(), Math.floor(bus.leaseTtlMs / 3)));
    this.timers.push(setInterval(() => this.sweepAttachments(), SWEEP_INTERVAL_MS));
    if (this.request.awaitsAdmission) {
      // A gateway that has not said by its deadline has given up on the session.
      const wait = Math.max(0, this.request.deadline - Date.now());
      this.timers.push(setTimeout(() => this.settleAdmission(false), wait));
    }
    const loggingIn = this.logIn(); // first: its lookups are on the critical path
    const taking = this.take();
    void Promise.all([taking, loggingIn])
      .then(([taken, login]) => (taken ? this.begin(login) : undefined))
      .catch((err: unknown) => {
        this.log.error({ err }, 'could not open the session');
        return this.end('error', 'the session could not be opened');
      });
    // The session was not admitted, or the browser left (and the gateway closed the row) while
    // the request waited: that ends the session at once, with no login. (A failed take is ended
    // just above.)
    if ((await taking.catch(() => true)) === false)
      await this.end(
        'closed',
        (await this.admitted)
          ? 'the client left before the session opened'
          : 'the session was not admitted (a session limit, or the client left)',
      );
  }

  /**
   * Listening for input (then saying so: a gateway may send input from then on) and, once the
   * session is admitted, claiming the row. False when it was not admitted, or its row had
   * already been closed.
   */
  private async take(): Promise<boolean> {
    const { bus, workerId } = this.deps;
    const [, claimed] = await Promise.all([
      bus
        .listenInput(this.id, (msg) => this.onInput(msg))
        .then((stop) => (this.stopListening = stop))
        .then(() =>
          Promise.all([bus.publish(this.id, { type: 'accepted', workerId }), this.askAdmission()]),
        ),
      this.admitted.then((admitted) => admitted && this.claimRow()),
    ]);
    return claimed;
  }

  /** A verdict given before this worker listened for it is kept on the bus: read it once. */
  private async askAdmission(): Promise<void> {
    if (!this.request.awaitsAdmission) return;
    const verdict = await this.deps.bus.admission(this.id);
    if (verdict !== null) this.settleAdmission(verdict);
  }

  /** Marks the row as this worker's; false when it had already been closed. */
  private async claimRow(): Promise<boolean> {
    if (this.request.kind !== 'shell') return true;
    const { count } = await this.deps.prisma.terminalSession.updateMany({
      where: { id: this.id, endedAt: null },
      data: { workerId: this.deps.workerId },
    });
    return count > 0;
  }

  /**
   * Connects, and authenticates once the session is admitted. A shell's recording policy is
   * read, and its start audited, meanwhile: there is no shell without its audit event. The
   * connection is this session's as soon as it is made, so whatever ends the session closes it.
   */
  private async logIn(): Promise<Login> {
    const { metrics } = this.deps;
    const serverRow = await this.serverLookup.catch((err: unknown) => {
      this.headStart?.discard();
      throw err;
    });
    // From the row on, as before head starts: a head start's TCP connection began earlier.
    const started = performance.now();
    const login = await connectForSession(
      serverRow,
      this.deps,
      (server) => this.prepareShell(server),
      {
        loginWhen: this.admitted,
        headStart: this.headStart,
        onPlanned: (target) => this.deps.headStarts.note(this.request.serverId, target),
      },
    );
    const { server, result } = login;
    if (result.ok) {
      if (this.ending) result.client.end();
      else this.client = result.client;
    }
    // A connection called off because the session was not admitted says nothing of the target.
    if (!(await this.admitted)) return login;
    metrics.connectSeconds.observe(
      { outcome: result.ok ? 'ok' : result.reason },
      (performance.now() - started) / 1000,
    );
    const hostKey = result.hostKey;
    if (server && (hostKey?.kind === 'pinned' || hostKey?.kind === 'mismatch')) {
      await this.audit(hostKey.kind === 'pinned' ? 'host_key.pinned' : 'host_key.mismatch', {
        host: server.host,
        port: server.port,
        fingerprint: hostKey.fingerprint,
        ...(hostKey.kind === 'mismatch' ? { pinnedFingerprint: hostKey.pinnedFingerprint } : {}),
      });
    }
    return login;
  }

  /**
   * Once the session is admitted and its login has started (or the attempt has failed): a
   * shell's recording policy, its start in the audit log, and the headless screen's terminal
   * (built now rather than in the constructor, before the connection).
   */
  private async prepareShell(server: Server): Promise<EffectivePolicy> {
    if (this.request.kind !== 'shell' || !(await this.admitted)) return NOT_RECORDED;
    // A session that has ended meanwhile (its browser left) wrote no end for a start that came
    // after it: no start is written either.
    if (this.ending) return NOT_RECORDED;
    const policyAndAudit = Promise.all([
      resolveRecordingPolicy(this.deps.prisma, server),
      this.auditStart(server),
    ]);
    this.screen.prepare();
    const [policy] = await policyAndAudit;
    return policy;
  }

  /** After the login and the take: the shell (or, for a test, the verdict). */
  private async begin(login: Login): Promise<void> {
    if (this.ending) return; // and the connection, if any, is closed
    if (login.server === null) return this.end(login.result.reason, login.result.message);
    const { server, result, alongside: recording } = login;
    if (!result.ok) return this.end(result.reason, result.message);
    const ready = {
      hostKeyFingerprint: result.hostKey.fingerprint,
      hostKeyPinned: result.hostKey.kind === 'pinned',
    };
    if (this.request.kind === 'test') {
      await this.deps.bus.publish(this.id, { type: 'ready', ...ready });
      return this.end(
        'closed',
        `connected to ${server.host}:${server.port} and authenticated as ${server.username}`,
      );
    }
    this.recorder = await startRecording(
      this.request,
      server,
      recording,
      this.size,
      this.deps,
      (message) => this.recordingFailed(message),
    );
    result.client.on(
      'close',
      () =>
        void this.end('connect_failed', `the connection to ${server.host}:${server.port} was lost`),
    );
    this.openShell(ready, result.socket);
  }

  private openShell(
    ready: { hostKeyFingerprint: string; hostKeyPinned: boolean },
    socket: Socket,
  ): void {
    const client = this.client!;
    const shellOpened = oneSessionOnly(client, socket);
    client.shell(
      { term: 'xterm-256color', cols: this.size.cols, rows: this.size.rows },
      (err, channel) => {
        shellOpened();
        if (err) return void this.end('error', `the server refused a shell: ${err.message}`);
        if (this.ending) return void channel.close();
        this.channel = channel;
        channel.on('data', (data: Buffer) => this.output.add(data));
        channel.stderr.on('data', (data: Buffer) => this.output.add(data));
        channel.on('exit', (code: number | null, signal?: string) => {
          this.exitStatus = { code: code ?? null, signal: signal ?? null };
        });
        channel.on('close', () => {
          const { code, signal } = this.exitStatus;
          const how = signal
            ? `was killed by signal ${signal}`
            : `exited with code ${code ?? 'unknown'}`;
          void this.end('exit', `the shell ${how}`);
        });
        this.markActive(ready).catch((err: unknown) =>
          this.log.warn({ err }, 'could not mark the session active'),
        );
      },
    );
  }

  private async markActive(ready: {
    hostKeyFingerprint: string;
    hostKeyPinned: boolean;
  }): Promise<void> {
    this.deps.metrics.sessionsOpen.inc();
    await this.publish({ type: 'ready', ...ready });
    await this.publishParticipants();
    await this.deps.prisma.terminalSession.updateMany({
      where: { id: this.id, endedAt: null },
      data: { status: 'active', connectedAt: new Date() },
    });
  }

  // ---- the output stream ----

  private onOutput(chunks: readonly Buffer[], bytes: number): void {
    this.deps.metrics.bytes.inc({ direction: 'out' }, bytes);
    const offset = this.offset;
    this.seq += 1;
    this.offset += bytes;
    this.unpublishedBytes += bytes;
    const published = (): void => {
      this.unpublishedBytes -= bytes;
      this.updateFlow();
    };
    this.deps.bus
      .publishOutput(this.id, this.seq, offset, chunks)
      .then(published, (err: unknown) => {
        published();
        this.log.warn({ err }, 'could not publish output');
      });
    // After the publish: output that reaches a compacted screen first rebuilds its terminal.
    for (const chunk of chunks) this.screen.write(chunk);
    this.recorder.output(this.seq, chunks);
    this.updateFlow();
  }

  /**
   * Pauses the shell while the bus, the headless screen or a controlling client lags; resumes
   * once each is down to half its limit.
   */
  private updateFlow(): void {
    if (!this.channel) return;
    const behind: Record<PauseReason, number> = {
      bus: this.unpublishedBytes / PAUSE_AT_UNPUBLISHED_BYTES,
      screen: this.screen.unparsedBytes / PAUSE_AT_UNPARSED_BYTES,
      client: this.participants.controllerLag(this.offset) / this.deps.session.flowWindowBytes,
    };
    const shares = Object.values(behind);
    if (!this.pause && shares.some((share) => share > 1)) {
      const reason = PAUSE_REASONS.reduce((a, b) => (behind[b] > behind[a] ? b : a));
      this.pause = { reason, since: performance.now() };
      this.deps.metrics.outputPauses.inc({ reason });
      this.channel.pause();
    } else if (this.pause && shares.every((share) => share <= 0.5)) {
      this.countPausedTime();
      this.pause = undefined;
      this.channel.resume();
    }
  }

  /** Adds the time the shell has been paused since last counted, if it is, to the metrics. */
  private countPausedTime(): void {
    if (!this.pause) return;
    const now = performance.now();
    this.deps.metrics.outputPausedSeconds.inc(
      { reason: this.pause.reason },
      (now - this.pause.since) / 1000,
    );
    this.pause.since = now;
  }

  private resize(cols: number, rows: number): void {
    this.output.flush();
    this.size = { cols, rows };
    this.channel?.setWindow(rows, cols, 0, 0);
    this.screen.resize(cols, rows);
    this.seq += 1;
    this.recorder.resize(this.seq, cols, rows);
    void this.publish({ type: 'resize', seq: this.seq, cols, rows });
  }

  /** The exact screen for one socket, tagged with the point of the stream it covers. */
  private async sendSnapshot(attachId: string): Promise<void> {
    this.output.flush();
    const seq = this.seq;
    const offset = this.offset;
    const state = await this.screen.snapshot();
    this.participants.resetAck(attachId, offset);
    await this.publish({ type: 'snapshot', attachId, seq, offset, ...state });
    this.updateFlow();
  }

  // ---- messages from gateways ----

  private onInput(msg: InputMessage): void {
    switch (msg.type) {
      case 'input':
        // Not writable once the shell has gone, while its output may still be on its way (ssh2
        // holds the channel's close back until that output is read): keys go nowhere then, and
        // are neither counted nor recorded.
        if (!this.channel?.writable) return;
        if (!this.participants.canWrite(msg.userId)) return this.refuse(msg.userId, 'input');
        this.bytesIn += msg.data.length;
        this.deps.metrics.bytes.inc({ direction: 'in' }, msg.data.length);
        this.channel.write(msg.data);
        this.recorder.input(msg.userId, this.participants.usernameOf(msg.userId), msg.data);
        return;
      case 'resize':
        if (!this.participants.canWrite(msg.userId)) return this.refuse(msg.userId, 'resize');
        return this.resize(msg.cols, msg.rows);
      case 'close':
        if (!this.participants.isOwner(msg.userId)) return this.refuse(msg.userId, 'close');
        void this.end('closed', 'the session was ended by its owner');
        return;
      case 'attach':
        this.participants.attach(msg, this.offset);
        this.cancelIdleTimer();
        void this.sendSnapshot(msg.attachId).then(() => this.publishParticipants());
        return;
      case 'detach':
        if (this.participants.detach(msg.attachId)) this.afterDeparture();
        return;
      case 'heartbeat':
        this.participants.heartbeat(msg.attachIds);
        return;
      case 'ack':
        this.participants.ack(msg.attachId, msg.offset);
        this.updateFlow();
        return;
      case 'resync':
        if (this.participants.has(msg.attachId)) void this.sendSnapshot(msg.attachId);
        return;
      case 'control':
        this.onControl(msg).catch((err: unknown) =>
          this.log.warn({ err, action: msg.action }, 'could not record a change of control'),
        );
        return;
      case 'recording-failed':
        this.recordingFailed(msg.message);
        return;
      case 'admission':
        this.settleAdmission(msg.admitted);
        return;
      case 'revoke': {
        const attachIds = this.participants.revoke(msg.via);
        void this.publish({ type: 'kick', attachIds, message: msg.message });
        this.afterDeparture();
        return;
      }
    }
  }

  private async onControl(msg: Extract<InputMessage, { type: 'control' }>): Promise<void> {
    const { participants } = this;
    if (msg.action === 'request') {
      if (participants.roleOf(msg.userId) !== 'view') return;
      const username = participants.usernameOf(msg.userId);
      await this.publish({ type: 'control-request', userId: msg.userId, username });
      return;
    }
    if (!participants.isOwner(msg.userId) || !msg.target)
      return this.refuse(msg.userId, `control ${msg.action}`);
    const target = msg.target;
    if (msg.action === 'deny') {
      await this.publish({ type: 'control-answer', userId: target, granted: false });
      return;
    }
    const role = msg.action === 'grant' ? 'control' : 'view';
    if (!participants.setRole(target, role)) return;
    await this.publish({ type: 'control-answer', userId: target, granted: role === 'control' });
    await this.publishParticipants();
    this.updateFlow();
    await this.deps.prisma.sessionParticipant.updateMany({
      where: { sessionId: this.id, userId: target },
      data: { role },
    });
    await this.audit(
      msg.action === 'grant' ? 'session.control_granted' : 'session.control_revoked',
      { userId: target },
    );
  }

  /**
   * Strict recording: output that cannot be kept must not be produced. The shell is paused at
   * once, then the session ends with the reason. Best-effort sessions go on (the recorder
   * records the gap).
   */
  private recordingFailed(message: string): void {
    if (!this.recorder.strict) return;
    this.channel?.pause();
    void this.end('recording_failed', `the session was ended: ${message}`);
  }

  private refuse(userId: string, what: string): void {
    this.log.warn(
      { userId, what },
      'refused a request from a participant without the right to make it',
    );
  }

  // ---- attachments and idleness ----

  private sweepAttachments(): void {
    if (this.participants.expire(this.deps.session.attachmentTimeoutMs).length > 0)
      this.afterDeparture();
  }

  /** After sockets left: tell everyone, let the shell run if it waited on them, mind idleness. */
  private afterDeparture(): void {
    void this.publishParticipants();
    this.updateFlow();
    if (this.participants.attachedCount === 0 && !this.idleTimer && !this.ending) {
      const minutes = Math.round(this.deps.session.idleTimeoutMs / 60_000);
      this.idleTimer = setTimeout(
        () =>
          void this.end(
            'idle_timeout',
            `nobody was attached for ${minutes} minute${minutes === 1 ? '' : 's'}`,
          ),
        this.deps.session.idleTimeoutMs,
      );
    }
  }

  private cancelIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private publishParticipants(): Promise<void> {
    return this.publish({ type: 'participants', participants: this.participants.list() });
  }

  private async publish(msg: Parameters<SessionBus['publish']>[1]): Promise<void> {
    try {
      await this.deps.bus.publish(this.id, msg);
    } catch (err) {
      this.log.warn({ err, type: msg.type }, 'could not publish to the session channel');
    }
  }

  private async renewLease(): Promise<void> {
    try {
      if (!(await this.deps.bus.renewOwnership(this.id, this.deps.workerId))) {
        await this.end('worker_lost', 'this worker lost ownership of the session');
      }
    } catch (err) {
      // The bus is unreachable: keep the shell; if the lease lapses meanwhile, gateways end it.
      this.log.warn({ err }, 'could not renew the session lease');
    }
  }

  // ---- the end ----

  /** Ends the session once: tells every watcher, records the outcome, frees everything. */
  end(reason: EndReason, message: string): Promise<void> {
    this.ending ??= this.cleanUp(reason, message).finally(() => this.resolveEnded());
    return this.ending;
  }

  private async cleanUp(reason: EndReason, message: string): Promise<void> {
    this.output.flush(); // the last output goes out before `ended`
    this.countPausedTime();
    const { bus, prisma, metrics, workerId } = this.deps;
    const wasActive = this.channel !== undefined;
    const { code, signal } = reason === 'exit' ? this.exitStatus : { code: null, signal: null };
    this.log.info(
      { reason, exitCode: code, bytesIn: this.bytesIn, bytesOut: this.offset },
      message,
    );
    for (const timer of this.timers) clearInterval(timer);
    this.cancelIdleTimer();
    await runAll(this.log, [
      () => this.stopListening?.(),
      () => {
        this.channel?.close();
        this.client?.end();
        this.screen.dispose();
      },
      () =>
        bus.publish(this.id, {
          type: 'ended',
          reason,
          message,
          exitCode: code,
          exitSignal: signal,
        }),
      // Before the lease goes: a recorder takes a lapsed lease without an end for a lost worker.
      () => this.recorder.end(reason, message),
      () =>
        this.request.kind === 'shell'
          ? prisma.terminalSession.updateMany({
              where: { id: this.id, endedAt: null },
              data: {
                status: 'ended',
                endedAt: new Date(),
                endReason: reason,
                endMessage: message,
                exitCode: code,
                exitSignal: signal,
                bytesIn: BigInt(this.bytesIn),
                bytesOut: BigInt(this.offset),
              },
            })
          : undefined,
      // Every start in the audit log has its end, and there is no end without a start (none is
      // written for a test connection, a deleted server, or a start that could not be written).
      async () => {
        if (await this.startAudited)
          await this.audit('session.end', { reason, message, exitCode: code });
      },
      () => bus.releaseOwnership(this.id, workerId),
    ]);
    if (wasActive) metrics.sessionsOpen.dec();
    metrics.sessionsEnded.inc({ reason });
  }

  /** An audit event by the session's owner (the only one who acts here on their own). */
  private async audit(
    action: string,
    details: Record<string, unknown>,
    ip?: string,
  ): Promise<void> {
    await appendAuditEvent(this.deps.prisma, {
      actorId: this.request.userId,
      actorName: this.request.username,
      action,
      targetType: 'server',
      targetId: this.request.serverId,
      serverId: this.request.serverId,
      sessionId: this.request.kind === 'shell' ? this.id : null,
      ip,
      details,
    });
  }

  /** The owner started a shell on the server, from the address the gateway saw. */
  private auditStart(server: Server): Promise<void> {
    const { host, port, username } = server;
    const writing = this.audit('session.start', { host, port, username }, this.request.clientIp);
    this.startAudited = writing.then(
      () => true,
      () => false,
    );
    return writing;
  }
}

/** Runs every step even when an earlier one fails, logging each failure. */
async function runAll(log: Logger, steps: Array<() => unknown>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      log.warn({ err }, 'cleanup step failed');
    }
  }
}
