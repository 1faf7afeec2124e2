import type { EndReason, OpenRequest, RecordEvent, RecordingBus } from '@sallyport/bus';
import type { Server } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import type { EffectivePolicy } from '@sallyport/recording';

/**
 * What a session tells its recording as it happens. Sessions on servers that are not recorded
 * get `notRecording`, which does nothing, so the session never asks whether it is recorded.
 */
export interface SessionRecorder {
  /** Strict policy: a recording that cannot be kept ends the session. */
  readonly strict: boolean;
  /** Output, as the chunks that arrived together. */
  output(seq: number, chunks: readonly Buffer[]): void;
  resize(seq: number, cols: number, rows: number): void;
  /** Keystrokes and who typed them; dropped unless the policy records input. */
  input(userId: string, username: string, data: Buffer): void;
  /** The last event; resolves when it is on the bus. */
  end(reason: EndReason, message: string): Promise<void>;
}

export const notRecording: SessionRecorder = {
  strict: false,
  output: () => undefined,
  resize: () => undefined,
  input: () => undefined,
  end: () => Promise.resolve(),
};

export interface RecordingDeps {
  recordingBus: RecordingBus;
  log: Logger;
  clock?: () => number;
}

/**
 * Starts recording a shell session if its server's policy says so: asks the recorders to take
 * it and returns the recorder that appends the session's events to its record stream.
 * `onFailure` is called (strict mode) when the events cannot even be put on the bus.
 */
export async function startRecording(
  request: OpenRequest,
  server: Server,
  policy: EffectivePolicy,
  size: { cols: number; rows: number },
  deps: RecordingDeps,
  onFailure: (message: string) => void,
): Promise<SessionRecorder> {
  if (!policy.enabled) return notRecording;
  const now = deps.clock ?? Date.now;
  await deps.recordingBus.requestRecording({
    sessionId: request.sessionId,
    userId: request.userId,
    username: request.username,
    serverId: server.id,
    serverName: server.name,
    cols: size.cols,
    rows: size.rows,
    startedAt: now(),
    mode: policy.mode,
    recordInput: policy.recordInput,
  });
  const strict = policy.mode === 'strict';
  let failed = false;
  const fail = (why: string): void => {
    if (!strict || failed) return;
    failed = true;
    onFailure(`${why}, and the recording policy is strict`);
  };
  const append = (event: RecordEvent): Promise<void> =>
    deps.recordingBus.append(request.sessionId, event).catch((err: unknown) => {
      // Best effort: the recorder sees the missing sequence numbers and records the gap.
      deps.log.warn({ err, sessionId: request.sessionId }, 'could not append to the record stream');
      fail('its output could not be handed to the recorder');
    });
  const watch = strict ? watchRecorder(request.sessionId, deps, fail) : undefined;
  return {
    strict,
    output: (seq, chunks) =>
      void append({ type: 'output', seq, at: now(), data: Buffer.concat(chunks) }),
    resize: (seq, cols, rows) => void append({ type: 'resize', seq, at: now(), cols, rows }),
    input: (userId, username, data) => {
      if (policy.recordInput) void append({ type: 'input', at: now(), userId, username, data });
    },
    end: (reason, message) => {
      clearInterval(watch);
      return append({ type: 'end', at: now(), reason, message });
    },
  };
}

/**
 * Strict mode also needs a recorder to be there: output no recorder reads is not being kept.
 * Checked once per recorder lease period; two checks in a row without one (time for a request
 * to be taken, or a dead recorder's lease to lapse and be taken over) end the session.
 */
function watchRecorder(
  sessionId: string,
  deps: RecordingDeps,
  fail: (why: string) => void,
): NodeJS.Timeout {
  let misses = 0;
  const timer = setInterval(() => {
    deps.recordingBus.sessionRecorders([sessionId]).then(
      ([holder]) => {
        misses = holder ? 0 : misses + 1;
        if (misses >= 2) {
          clearInterval(timer);
          fail('no recorder is recording it');
        }
      },
      (err: unknown) => deps.log.warn({ err, sessionId }, 'could not check for a recorder'),
    );
  }, deps.recordingBus.leaseTtlMs);
  timer.unref();
  return timer;
}
