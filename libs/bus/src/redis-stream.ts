// Reading Redis stream replies. They arrive as `unknown` (callBuffer/call), and are checked
// shape by shape rather than cast, so a surprising reply becomes an empty result, not a crash.

/** The one field of our stream entries: XADD key * d <payload>. */
export const PAYLOAD_FIELD = 'd';

export interface StreamEntry {
  id: string;
  /** Undefined when the entry was trimmed away or lacks our field. */
  payload: Buffer | undefined;
}

/** XREADGROUP: [[key, [[id, [field, value, ...]], ...]], ...] or null on timeout. */
export function parseReadReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((stream: unknown) =>
    Array.isArray(stream) ? parseStreamEntries(stream[1]) : [],
  );
}

/** XCLAIM / XRANGE: [[id, [field, value, ...] | null], ...]. */
export function parseStreamEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply as unknown[]) {
    if (!Array.isArray(item)) continue;
    const [id, fields] = item as unknown[];
    if (!Buffer.isBuffer(id) && typeof id !== 'string') continue;
    entries.push({ id: id.toString(), payload: fieldValue(fields, PAYLOAD_FIELD) });
  }
  return entries;
}

function fieldValue(fields: unknown, name: string): Buffer | undefined {
  if (!Array.isArray(fields)) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key: unknown = fields[i];
    const value: unknown = fields[i + 1];
    if (String(key) === name) {
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
    if (id == null || consumer == null) continue;
    items.push({ id: String(id), consumer: String(consumer) });
  }
  return items;
}
