// The public surface of @sallyport/jobs.
export type {
  AddOptions,
  Job,
  JobData,
  JobHandler,
  JobLogger,
  JobQueue,
  JobQueueOptions,
  JobWorker,
  ProcessOptions,
} from './job-queue.js';
export { createMemoryJobBackend, type MemoryJobBackend } from './memory-backend.js';
export { createMemoryJobQueue, type MemoryJobQueueOptions } from './memory-job-queue.js';
export { createBullmqJobQueue, type BullmqJobQueueOptions } from './bullmq-job-queue.js';
