/**
 * Runs a service's start-up. A failure to start (a bad setting, an unreachable database) is
 * printed as one readable line naming the problem, and the process exits 1, rather than an
 * unhandled rejection with a stack trace.
 */
export function runMain(name: string, start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name} could not start: ${message}\n`);
    if (process.env.SALLYPORT_LOG_LEVEL === 'debug' && err instanceof Error)
      process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
