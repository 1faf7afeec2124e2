export {
  startSessionWorker,
  workerOptionsFrom,
  type SessionWorker,
  type SessionWorkerOptions,
  type SessionWorkerDeps,
} from './worker.js';
