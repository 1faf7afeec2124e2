// Reading Redis stream replies. They arrive as `unknown` (callBuffer/call), and are checked
// shape by shape rather than cast, so a surprising reply becomes an empty result, not a crash.

/** The one field of our stream entries: XADD key * d <payload>. */
export const PAYLOAD_FIELD = 'd';

export interface StreamEntry {
  id: string;
  /** Undefined when the entry was trimmed away or lacks our field. */
  payload: Buffer | undefined;
}

/**
 * XREADGROUP, or null on timeout. RESP2 replies [[key, entries], ...]; RESP3 (ioredis 6's
 * default) replies a map, which reaches callBuffer flattened as [key, entries, ...].
 */
export function parseReadReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const items = reply as unknown[];
  if (items.length > 0 && !Array.isArray(items[0])) {
    return items.flatMap((item, i) => (i % 2 === 1 ? parseStreamEntries(item) : []));
  }
  return items.flatMap((stream) => (Array.isArray(stream) ? parseStreamEntries(stream[1]) : []));
}

/** XCLAIM / XRANGE: [[id, [field, value, ...] | null], ...]. */
export function parseStreamEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply as unknown[]) {
    if (!Array.isArray(item)) continue;
    const [id, fields] = item as unknown[];
    if (!isText(id)) continue;
    entries.push({ id: id.toString(), payload: fieldValue(fields, PAYLOAD_FIELD) });
  }
  return entries;
}

function fieldValue(fields: unknown, name: string): Buffer | undefined {
  if (!Array.isArray(fields)) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key: unknown = fields[i];
    const value: unknown = fields[i + 1];
    if (isText(key) && key.toString() === name) {
      if (Buffer.isBuffer(value)) return value;
      if (typeof value === 'string') return Buffer.from(value);
    }
  }
  return undefined;
}

export interface PendingItem {
  id: string;
  consumer: string;
}

/** XPENDING key group IDLE ms - + count: [[id, consumer, idleMs, deliveries], ...]. */
export function parsePending(reply: unknown): PendingItem[] {
  if (!Array.isArray(reply)) return [];
  const items: PendingItem[] = [];
  for (const row of reply as unknown[]) {
    if (!Array.isArray(row)) continue;
    const [id, consumer] = row as unknown[];
    if (!isText(id) || !isText(consumer)) continue;
    items.push({ id: id.toString(), consumer: consumer.toString() });
  }
  return items;
}

function isText(value: unknown): value is string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value);
}
