export {
  signRequest,
  verifyRequest,
  INTERNAL_HEADERS,
  SIGNATURE_WINDOW_MS,
  type InternalIdentity,
  type VerifyResult,
} from './signature.js';
export {
  fileOperations,
  isFileOperation,
  remotePath,
  toQuery,
  workerPath,
  type FileOperation,
  type FileParams,
} from './operations.js';
export { switchRefusal, type SftpSwitches } from './access.js';
// Also importable alone, as '@sallyport/sftp-protocol/answers' (the browser bundle does).
export type { Entry, EntryType, Listing, TextFile } from './answers.js';
