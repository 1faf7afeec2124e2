import type { Logger } from '@sallyport/log';

/**
 * On SIGTERM or SIGINT, runs each step in order (every one, even if an earlier one fails) and
 * exits. A second signal exits at once.
 */
export function onShutdown(
  log: Logger,
  steps: Array<[name: string, step: () => Promise<unknown>]>,
): void {
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) process.exit(1);
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      let failed = false;
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          failed = true;
          log.error({ err, step: name }, 'shutdown step failed');
        }
      }
      log.flush();
      process.exit(failed ? 1 : 0);
    })();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
