// Opening and closing Redis connections the one way every Sallyport client does (the bus's
// transports, and the job queue's BullMQ connections).
import { Redis, type RedisOptions } from 'ioredis';
import type { BusLogger } from './logger.js';

/**
 * One connection for one role. It is named in CLIENT LIST (`<prefix><role>`) so an operator — or
 * a test — can tell a transport's connections apart. Failures are logged once per outage, not on
 * every reconnect attempt; ioredis keeps reconnecting on its own.
 */
export function openConnection(
  url: string,
  name: string,
  logger: BusLogger,
  extra: RedisOptions = {},
): Redis {
  const connection = new Redis(url, { ...extra, connectionName: clientName(name) });
  let down = false;
  connection.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    logger.warn({ err, connection: name }, 'redis connection failed, reconnecting');
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.warn({ connection: name }, 'redis connection restored');
  });
  return connection;
}

/** CLIENT SETNAME refuses spaces and special characters, which a prefix might contain. */
function clientName(name: string): string {
  return name.replace(/[^\w:.-]/g, '_');
}

/**
 * QUIT lets replies already on their way arrive; but while Redis is unreachable it would wait
 * for a reconnect that may never come, so fall back to dropping the socket after `graceMs`.
 */
export async function quitConnection(connection: Redis, graceMs = 1_000): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const quit = connection.quit().then(
    () => true,
    () => false,
  );
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const quitCleanly = await Promise.race([quit, timeout]);
  clearTimeout(timer);
  if (!quitCleanly) connection.disconnect();
}
