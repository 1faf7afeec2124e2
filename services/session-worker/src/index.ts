export {
  startSessionWorker,
  type SessionWorker,
  type SessionWorkerOptions,
  type SessionWorkerDeps,
} from './worker.js';
