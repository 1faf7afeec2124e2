// The public surface of @sallyport/recording: the recording file format, its store, and
// reading recordings back (shared by the recorder, which writes them, and the gateway).
export {
  fileHeader,
  INTEGRITY_MESSAGE,
  openChunks,
  recordingKeyPurpose,
  RecordingIntegrityError,
  sealChunk,
  type OpenChunksOptions,
} from './container.js';
export { DirectoryRecordingStore, type RecordingStore } from './store.js';
export {
  CastEncoder,
  castHeader,
  completeUtf8Length,
  initialCastState,
  type CastState,
  type EncodedEvent,
} from './cast.js';
export {
  castEvents,
  castLines,
  castText,
  searchCast,
  type CastEvent,
  type SearchHit,
} from './cast-reader.js';
export { PlainText } from './text.js';
export { RecordingReader, type StoredRecording } from './playback.js';
export {
  NOT_RECORDED,
  policyScope,
  resolveRecordingPolicy,
  type EffectivePolicy,
} from './policy.js';
