export {
  createSftpWorkerApp,
  startSftpWorker,
  type SftpWorker,
  type SftpWorkerDeps,
  type SftpWorkerOptions,
} from './app.js';
