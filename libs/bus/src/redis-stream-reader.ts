// One in-order reader of a Redis stream in a consumer group. Reads never block, so they go over
// the transport's shared command connection: a process reading hundreds of streams (a recorder)
// needs no connection per stream, and the caller decides how often to look.
import type { Redis } from 'ioredis';
import type { StreamEntry, StreamReader } from './transport.js';
import { parseReadReply } from './redis-stream.js';

const CLAIM_BATCH = 500;

export interface RedisStreamReaderDeps {
  commands: Redis;
  key: string;
  group: string;
  consumer: string;
  /** Races a command against the transport's closing (see RedisTransport.guard). */
  guard: <T>(operation: Promise<T>) => Promise<T>;
}

export class RedisStreamReader implements StreamReader {
  /**
   * 'claim': take over whatever the group handed out and never saw acknowledged; 'pending': read
   * those entries back (XREADGROUP with an id lists our own pending entries); 'new': the rest.
   */
  private phase: 'claim' | 'pending' | 'new' = 'claim';
  private pendingCursor = '0';
  private groupReady = false;

  constructor(private readonly deps: RedisStreamReaderDeps) {}

  async read(count: number): Promise<StreamEntry[]> {
    try {
      return await this.readOnce(count);
    } catch (err) {
      // The stream vanished (deleted, or Redis restarted empty): start again from scratch.
      if (!(err instanceof Error && err.message.startsWith('NOGROUP'))) throw err;
      this.groupReady = false;
      this.phase = 'claim';
      this.pendingCursor = '0';
      return this.readOnce(count);
    }
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { commands, key, group, guard } = this.deps;
    await guard(commands.xack(key, group, ...ids));
  }

  private async readOnce(count: number): Promise<StreamEntry[]> {
    await this.ensureGroup();
    if (this.phase === 'claim') {
      await this.claimAll();
      this.phase = 'pending';
    }
    while (this.phase === 'pending') {
      const entries = await this.readGroup(count, this.pendingCursor);
      if (entries.length === 0) {
        this.phase = 'new';
        break;
      }
      this.pendingCursor = entries.at(-1)!.id;
      const kept = await this.dropTrimmed(entries);
      if (kept.length > 0) return kept;
    }
    return this.dropTrimmed(await this.readGroup(count, '>'));
  }

  /** XAUTOCLAIM with no idle time: the caller guarantees the previous reader is gone. */
  private async claimAll(): Promise<void> {
    const { commands, key, group, consumer, guard } = this.deps;
    let cursor = '0-0';
    do {
      const reply = (await guard(
        commands.call(
          'XAUTOCLAIM',
          key,
          group,
          consumer,
          0,
          cursor,
          'COUNT',
          CLAIM_BATCH,
          'JUSTID',
        ),
      )) as unknown[];
      cursor = String(reply[0]);
    } while (cursor !== '0-0');
  }

  private async readGroup(
    count: number,
    from: string,
  ): Promise<{ id: string; payload: Buffer | undefined }[]> {
    const { commands, key, group, consumer, guard } = this.deps;
    const reply = await guard(
      commands.callBuffer(
        'XREADGROUP',
        'GROUP',
        group,
        consumer,
        'COUNT',
        count,
        'STREAMS',
        key,
        from,
      ),
    );
    return parseReadReply(reply);
  }

  /** An entry trimmed away while pending comes back without fields: acknowledge and skip it. */
  private async dropTrimmed(
    entries: { id: string; payload: Buffer | undefined }[],
  ): Promise<StreamEntry[]> {
    const gone = entries.filter((e) => !e.payload).map((e) => e.id);
    await this.ack(gone);
    return entries.flatMap((e) => (e.payload ? [{ id: e.id, payload: e.payload }] : []));
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    const { commands, key, group, guard } = this.deps;
    try {
      await guard(commands.xgroup('CREATE', key, group, '0', 'MKSTREAM'));
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
    this.groupReady = true;
  }
}
