// The bus for distributed mode. Each role has its own connection, as BullMQ and Socket.IO's
// Redis adapter do: commands (publish, XADD, XACK, leases), one subscriber shared by every
// subscription, and one blocking connection per queue consumer. Every name is prefixed by
// hand — ioredis's keyPrefix does not apply to pub/sub channels, so it is not used at all.
import type { Redis } from 'ioredis';
import type {
  ConsumeOptions,
  QueueConsumer,
  StreamReader,
  StreamReaderOptions,
  Transport,
  Unsubscribe,
  WindowCount,
} from './transport.js';
import { consoleLogger, type BusLogger } from './logger.js';
import { Ending } from './ending.js';
import { closedError, leaseTtl, MAX_QUEUE_LENGTH, withTimeout } from './internal.js';
import { openConnection, quitConnection } from './redis-connection.js';
import { RedisConsumer } from './redis-consumer.js';
import { PAYLOAD_FIELD } from './redis-stream.js';
import { RedisStreamReader } from './redis-stream-reader.js';
import { SharedSubscriber } from './redis-subscriber.js';

export interface RedisTransportOptions {
  url: string;
  /** Prepended to every key and channel. Default "sp:". */
  prefix?: string;
  logger?: BusLogger;
}

// Compare-and-set on the owner, atomically: a worker whose lease lapsed and was taken by
// another must not extend or delete the new owner's lease.
const RENEW_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

// INCR and the window's expiry in one step, so a crash between them cannot leave a counter
// that never expires.
const COUNT_IN_WINDOW = `local count
if ARGV[2] == '1' then
  count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
else
  count = tonumber(redis.call('GET', KEYS[1]) or '0')
end
return {count, redis.call('PTTL', KEYS[1])}`;

const PING_TIMEOUT_MS = 2_000;

export function createRedisTransport(options: RedisTransportOptions): Transport {
  return new RedisTransport(options);
}

class RedisTransport implements Transport {
  private readonly url: string;
  private readonly prefix: string;
  private readonly logger: BusLogger;
  private readonly commands: Redis;
  private readonly subscriberConnection: Redis;
  private readonly subscriber: SharedSubscriber;
  private readonly consumers = new Set<RedisConsumer>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /**
   * Comes once close() is done. Every call races it: ioredis never settles a command that was
   * queued while it was between reconnect attempts when the connection is closed, and a caller
   * must not wait on such a command forever.
   */
  private readonly ended = new Ending();

  constructor(options: RedisTransportOptions) {
    this.url = options.url;
    this.prefix = options.prefix ?? 'sp:';
    this.logger = options.logger ?? consoleLogger;
    this.commands = openConnection(this.url, `${this.prefix}bus-cmd`, this.logger);
    this.subscriberConnection = openConnection(this.url, `${this.prefix}bus-sub`, this.logger);
    this.subscriber = new SharedSubscriber(this.subscriberConnection, this.logger);
  }

  async publish(channel: string, payload: Buffer): Promise<void> {
    this.assertOpen();
    await this.guard(this.commands.publish(this.prefix + channel, payload));
  }

  async subscribe(channel: string, onMessage: (payload: Buffer) => void): Promise<Unsubscribe> {
    this.assertOpen();
    return this.guard(this.subscriber.subscribe(this.prefix + channel, onMessage));
  }

  enqueue(queue: string, payload: Buffer): Promise<void> {
    // MAXLEN ~ keeps the stream bounded without XDEL: another consumer group may still need an
    // entry this group has acknowledged.
    return this.append(queue, payload, MAX_QUEUE_LENGTH);
  }

  consume(options: ConsumeOptions): QueueConsumer {
    this.assertOpen();
    const blocking = openConnection(
      this.url,
      `${this.prefix}bus-read:${options.consumer}`,
      this.logger,
      // A blocked read simply waits out a reconnect instead of failing after N retries.
      { maxRetriesPerRequest: null },
    );
    const consumer: RedisConsumer = new RedisConsumer(options, {
      commands: this.commands,
      blocking,
      streamKey: this.prefix + options.queue,
      logger: this.logger,
      onStopped: () => this.consumers.delete(consumer),
    });
    this.consumers.add(consumer);
    return consumer;
  }

  async append(stream: string, payload: Buffer, maxLength: number): Promise<void> {
    this.assertOpen();
    await this.guard(
      this.commands.xadd(
        this.prefix + stream,
        'MAXLEN',
        '~',
        String(maxLength),
        '*',
        PAYLOAD_FIELD,
        payload,
      ),
    );
  }

  openStreamReader(options: StreamReaderOptions): StreamReader {
    this.assertOpen();
    return new RedisStreamReader({
      commands: this.commands,
      key: this.prefix + options.stream,
      group: options.group,
      consumer: options.consumer,
      guard: (operation) => {
        this.assertOpen();
        return this.guard(operation);
      },
    });
  }

  async deleteStream(stream: string): Promise<void> {
    this.assertOpen();
    await this.guard(this.commands.del(this.prefix + stream));
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    const ttl = leaseTtl(ttlMs);
    const reply = await this.guard(this.commands.set(this.prefix + key, owner, 'PX', ttl, 'NX'));
    return reply === 'OK';
  }

  async renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    const ttl = leaseTtl(ttlMs);
    const reply = await this.guard(
      this.commands.eval(RENEW_LEASE, 1, this.prefix + key, owner, ttl),
    );
    return reply === 1;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    this.assertOpen();
    await this.guard(this.commands.eval(RELEASE_LEASE, 1, this.prefix + key, owner));
  }

  async leaseOwners(keys: readonly string[]): Promise<(string | null)[]> {
    this.assertOpen();
    if (keys.length === 0) return []; // MGET without keys is a syntax error
    return this.guard(this.commands.mget(keys.map((key) => this.prefix + key)));
  }

  async countInWindow(key: string, windowMs: number, add: boolean): Promise<WindowCount> {
    this.assertOpen();
    const [count, ttl] = (await this.guard(
      this.commands.eval(COUNT_IN_WINDOW, 1, this.prefix + key, windowMs, add ? '1' : '0'),
    )) as [number, number];
    return count > 0 ? { count, resetInMs: Math.max(ttl, 0) } : { count: 0, resetInMs: 0 };
  }

  /**
   * For /readyz: fails at once while ioredis is reconnecting (a PING would only join the
   * offline queue), and within PING_TIMEOUT_MS when Redis does not answer.
   */
  async ping(): Promise<void> {
    this.assertOpen();
    const status = this.commands.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      throw new Error(`redis connection is ${status}`);
    }
    await this.guard(withTimeout(this.commands.ping(), PING_TIMEOUT_MS, 'redis PING'));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Every step runs even if an earlier one failed; each failure is logged. */
  private async shutdown(): Promise<void> {
    this.closed = true;
    const steps: [string, () => Promise<void>][] = [
      // First, so handlers' XACKs still have the command connection.
      [
        'stop consumers',
        async () => void (await Promise.all([...this.consumers].map((c) => c.stop()))),
      ],
      // No UNSUBSCRIBE needed: closing the connection ends its subscriptions.
      [
        'close subscriber',
        async () => {
          this.subscriber.clear();
          await quitConnection(this.subscriberConnection);
        },
      ],
      ['close commands', () => quitConnection(this.commands)],
    ];
    for (const [step, run] of steps) {
      try {
        await run();
      } catch (err) {
        this.logger.error({ err, step }, 'bus: close step failed');
      }
    }
    this.ended.reject(closedError());
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private guard<T>(operation: Promise<T>): Promise<T> {
    return this.ended.race(operation);
  }
}
