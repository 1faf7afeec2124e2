import type { Config } from '@sallyport/config';
import type { RecorderOptions } from './recorder.js';

/** The recorder's options as the configuration gives them. */
export function recorderOptionsFrom(config: Config): RecorderOptions {
  return {
    recorderId: config.recorder.id,
    maxSessions: config.recorder.maxSessions,
    chunkBytes: config.recording.chunkBytes,
    retentionDays: config.recording.retentionDays,
  };
}
