import { describeJobQueueConformance } from './conformance.js';
import type { JobQueue } from './job-queue.js';
import { createMemoryJobBackend } from './memory-backend.js';
import { createMemoryJobQueue } from './memory-job-queue.js';

// Queues on one backend play replicas of one process, as several processes share one Redis.
describeJobQueueConformance('memory', () => {
  const backend = createMemoryJobBackend();
  const opened: JobQueue[] = [];
  return Promise.resolve({
    open: (options) => {
      const queue = createMemoryJobQueue({ ...options, backend });
      opened.push(queue);
      return Promise.resolve(queue);
    },
    cleanup: async () => {
      await Promise.all(opened.map((q) => q.close()));
    },
  });
});
