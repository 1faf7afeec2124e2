export { createRegistry, type Registry } from './metrics.js';
export { opsMiddleware, startOpsServer, type ReadinessChecks, type OpsServer } from './ops.js';
export { listen } from './listen.js';
