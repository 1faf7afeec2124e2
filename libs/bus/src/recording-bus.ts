import type { QueueConsumer, Transport } from './transport.js';
import {
  decodeRecordEvent,
  encodeInputMessage,
  encodeRecordEvent,
  type RecordEvent,
  type RecordingRequest,
} from './messages.js';
import { inputChannel } from './names.js';

export interface RecordingBusOptions {
  /** How long a recorder holds a session's recording without renewing. Default 5 000 ms. */
  leaseTtlMs?: number;
  /** A session's record stream keeps about this many events for a recorder that is away. */
  maxStreamLength?: number;
}

const START_QUEUE = 'recordings:start';
const RECORDER_GROUP = 'recorders';

const recordStream = (sessionId: string) => `sess:${sessionId}:rec`;
const recorderKey = (sessionId: string) => `sess:${sessionId}:recorder`;

/** A recording's events as a recorder reads them, with their ids for acknowledgement. */
export interface RecordReader {
  read(count: number): Promise<{ id: string; event: RecordEvent }[]>;
  ack(ids: readonly string[]): Promise<void>;
}

/**
 * How session workers hand a session's output to the recorders, with acknowledgement: each
 * recorded session has its own stream, which the one recorder holding the session's lease reads
 * in order and acknowledges once what it read is on disk. A recorder that dies leaves the rest
 * unacknowledged in the stream, and the next one to take the lease carries on from there.
 */
export class RecordingBus {
  readonly leaseTtlMs: number;
  private readonly maxStreamLength: number;

  constructor(
    private readonly transport: Transport,
    options: RecordingBusOptions = {},
  ) {
    this.leaseTtlMs = options.leaseTtlMs ?? 5_000;
    this.maxStreamLength = options.maxStreamLength ?? 10_000;
  }

  // ---- worker side ----

  /** Asks whichever recorder has room to record the session. */
  requestRecording(request: RecordingRequest): Promise<void> {
    return this.transport.enqueue(START_QUEUE, Buffer.from(JSON.stringify(request), 'utf8'));
  }

  append(sessionId: string, event: RecordEvent): Promise<void> {
    return this.transport.append(
      recordStream(sessionId),
      encodeRecordEvent(event),
      this.maxStreamLength,
    );
  }

  // ---- recorder side ----

  serveRecordingRequests(options: {
    recorderId: string;
    hasCapacity: () => boolean;
    handler: (request: RecordingRequest) => Promise<void>;
    onError?: (err: unknown) => void;
  }): QueueConsumer {
    return this.transport.consume({
      queue: START_QUEUE,
      group: RECORDER_GROUP,
      consumer: options.recorderId,
      hasCapacity: options.hasCapacity,
      handler: (payload) =>
        options.handler(JSON.parse(payload.toString('utf8')) as RecordingRequest),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Only the holder of the session's recorder lease may read its stream. */
  claimSession(sessionId: string, recorderId: string): Promise<boolean> {
    return this.transport.acquireLease(recorderKey(sessionId), recorderId, this.leaseTtlMs);
  }

  renewSession(sessionId: string, recorderId: string): Promise<boolean> {
    return this.transport.renewLease(recorderKey(sessionId), recorderId, this.leaseTtlMs);
  }

  releaseSession(sessionId: string, recorderId: string): Promise<void> {
    return this.transport.releaseLease(recorderKey(sessionId), recorderId);
  }

  /** The recorder holding each session, or null where nobody does. */
  sessionRecorders(sessionIds: readonly string[]): Promise<(string | null)[]> {
    return this.transport.leaseOwners(sessionIds.map(recorderKey));
  }

  reader(sessionId: string, recorderId: string): RecordReader {
    const reader = this.transport.openStreamReader({
      stream: recordStream(sessionId),
      group: RECORDER_GROUP,
      consumer: recorderId,
    });
    return {
      read: async (count) =>
        (await reader.read(count)).map((e) => ({ id: e.id, event: decodeRecordEvent(e.payload) })),
      ack: (ids) => reader.ack(ids),
    };
  }

  /** After finalisation: the stream has served its purpose. */
  deleteStream(sessionId: string): Promise<void> {
    return this.transport.deleteStream(recordStream(sessionId));
  }

  /** Tells the session's worker that its output cannot be kept (strict mode ends the session). */
  reportFailure(sessionId: string, message: string): Promise<void> {
    return this.transport.publish(
      inputChannel(sessionId),
      encodeInputMessage({ type: 'recording-failed', message }),
    );
  }
}
