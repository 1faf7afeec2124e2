export {
  openBaseContext,
  openServiceContext,
  type BaseContext,
  type ServiceContext,
} from './context.js';
export { openKeyring } from './keyring.js';
export { openBus } from './bus.js';
export { openJobQueue } from './jobs.js';
export { openDatabaseFromConfig } from './database.js';
export { onShutdown } from './shutdown.js';
export { runMain } from './main.js';
export { keepHeapHeadroom, setHeapGrowth } from './heap.js';
