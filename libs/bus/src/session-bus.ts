import type { QueueConsumer, Transport, Unsubscribe } from './transport.js';
import {
  decodeInputMessage,
  decodeOpenRequest,
  decodeSessionMessage,
  encodeInputMessage,
  encodeOpenRequest,
  encodeOutput,
  encodeSessionMessage,
  type InputMessage,
  type OpenRequest,
  type SessionMessage,
} from './messages.js';
import { inputChannel } from './names.js';

export interface SessionBusOptions {
  /** How long a worker owns a session without renewing. Default 5 000 ms. */
  leaseTtlMs?: number;
  /** How long an open request may sit with a dead worker before another claims it. Default 5 000 ms. */
  claimIdleMs?: number;
}

const OPEN_QUEUE = 'sessions:open';
const WORKER_GROUP = 'session-workers';

const outputChannel = (sessionId: string) => `sess:${sessionId}:out`;
const ownerKey = (sessionId: string) => `sess:${sessionId}:owner`;
// Kept as a lease whose holder is the verdict: set once, gone when it expires.
const admissionKey = (sessionId: string) => `sess:${sessionId}:admission`;
const ADMITTED = 'admitted';
const REFUSED = 'refused';

/**
 * How gateways and session workers reach a terminal session without sharing memory:
 * pull-based placement of open requests, an owner lease per session, and a channel each way.
 */
export class SessionBus {
  readonly leaseTtlMs: number;
  private readonly claimIdleMs: number;

  constructor(
    private readonly transport: Transport,
    options: SessionBusOptions = {},
  ) {
    this.leaseTtlMs = options.leaseTtlMs ?? 5_000;
    this.claimIdleMs = options.claimIdleMs ?? 5_000;
  }

  // ---- gateway side ----

  /** Queue a request for whichever worker has room. Watch the session first, to miss nothing. */
  requestOpen(request: OpenRequest): Promise<void> {
    return this.transport.enqueue(OPEN_QUEUE, encodeOpenRequest(request));
  }

  /** Everything the owning worker publishes about the session, from now on. */
  watch(sessionId: string, onMessage: (msg: SessionMessage) => void): Promise<Unsubscribe> {
    return this.transport.subscribe(outputChannel(sessionId), (payload) =>
      onMessage(decodeSessionMessage(payload)),
    );
  }

  sendInput(sessionId: string, msg: InputMessage): Promise<void> {
    return this.transport.publish(inputChannel(sessionId), encodeInputMessage(msg));
  }

  /**
   * The verdict on a session requested before it was decided (`OpenRequest.awaitsAdmission`):
   * kept for `ttlMs` for whichever worker takes the request, and sent to one already listening.
   * The first verdict stands.
   */
  async admit(sessionId: string, admitted: boolean, ttlMs: number): Promise<void> {
    const verdict = admitted ? ADMITTED : REFUSED;
    if (await this.transport.acquireLease(admissionKey(sessionId), verdict, ttlMs))
      await this.sendInput(sessionId, { type: 'admission', admitted });
  }

  /** The worker holding each session's lease, or null where it lapsed. */
  owners(sessionIds: readonly string[]): Promise<(string | null)[]> {
    return this.transport.leaseOwners(sessionIds.map(ownerKey));
  }

  // ---- worker side ----

  /** Take open requests while `hasCapacity()` says there is room. */
  serveOpenRequests(options: {
    workerId: string;
    hasCapacity: () => boolean;
    handler: (request: OpenRequest) => Promise<void>;
    onError?: (err: unknown) => void;
  }): QueueConsumer {
    return this.transport.consume({
      queue: OPEN_QUEUE,
      group: WORKER_GROUP,
      consumer: options.workerId,
      hasCapacity: options.hasCapacity,
      claimIdleMs: this.claimIdleMs,
      handler: (payload) => options.handler(decodeOpenRequest(payload)),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  publish(sessionId: string, msg: SessionMessage): Promise<void> {
    return this.transport.publish(outputChannel(sessionId), encodeSessionMessage(msg));
  }

  /** An `output` message of `chunks` joined, without joining them first (the hot path). */
  publishOutput(
    sessionId: string,
    seq: number,
    offset: number,
    chunks: readonly Buffer[],
  ): Promise<void> {
    return this.transport.publish(outputChannel(sessionId), encodeOutput(seq, offset, chunks));
  }

  listenInput(sessionId: string, onInput: (msg: InputMessage) => void): Promise<Unsubscribe> {
    return this.transport.subscribe(inputChannel(sessionId), (payload) =>
      onInput(decodeInputMessage(payload)),
    );
  }

  /**
   * The verdict `admit` kept for the session, null while there is none. Asked once the worker
   * listens for input: a verdict given after the answer is then heard as an `admission` message.
   */
  async admission(sessionId: string): Promise<boolean | null> {
    const [verdict] = await this.transport.leaseOwners([admissionKey(sessionId)]);
    return verdict === null || verdict === undefined ? null : verdict === ADMITTED;
  }

  /** True when this worker now owns the session; false when another worker got it first. */
  claimOwnership(sessionId: string, workerId: string): Promise<boolean> {
    return this.transport.acquireLease(ownerKey(sessionId), workerId, this.leaseTtlMs);
  }

  renewOwnership(sessionId: string, workerId: string): Promise<boolean> {
    return this.transport.renewLease(ownerKey(sessionId), workerId, this.leaseTtlMs);
  }

  releaseOwnership(sessionId: string, workerId: string): Promise<void> {
    return this.transport.releaseLease(ownerKey(sessionId), workerId);
  }

  ping(): Promise<void> {
    return this.transport.ping();
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
