import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where recording files live. A directory today (a PersistentVolume in Kubernetes, shared by
 * recorders and gateways); an object store can implement the same calls.
 */
export interface RecordingStore {
  /** Appends to the recording's file, creating it. Durable (synced) when it resolves. */
  append(recordingId: string, data: Buffer): Promise<void>;
  /** Cuts the file back to `size` bytes: what the checkpoint vouches for. Creates nothing. */
  truncate(recordingId: string, size: number): Promise<void>;
  /** The first `size` bytes of the file, streamed. */
  read(recordingId: string, size: number): Readable;
  remove(recordingId: string): Promise<void>;
  /** Every file in the store, with when it last changed. */
  list(): AsyncIterable<{ recordingId: string; modifiedAt: Date }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUFFIX = '.sprec';

/**
 * A recording store in a directory: `<dir>/<recording id>.sprec`. Ids are checked to be UUIDs,
 * so nothing from outside ever becomes a path. Each append opens, writes, syncs and closes the
 * file: no descriptor is held per session, and a store that turns read-only is noticed at once.
 */
export class DirectoryRecordingStore implements RecordingStore {
  constructor(readonly dir: string) {}

  async append(recordingId: string, data: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = await open(this.file(recordingId), 'a', 0o600);
    try {
      await file.write(data);
      await file.datasync();
    } finally {
      await file.close();
    }
  }

  async truncate(recordingId: string, size: number): Promise<void> {
    const file = this.file(recordingId);
    const current = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (current !== undefined && current > size) await truncate(file, size);
  }

  read(recordingId: string, size: number): Readable {
    // end is inclusive; an empty read still opens the file, so a missing one is an error.
    return createReadStream(this.file(recordingId), { start: 0, end: Math.max(0, size - 1) });
  }

  async remove(recordingId: string): Promise<void> {
    await rm(this.file(recordingId), { force: true });
  }

  async *list(): AsyncIterable<{ recordingId: string; modifiedAt: Date }> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const name of names) {
      const recordingId = name.slice(0, -SUFFIX.length);
      if (!name.endsWith(SUFFIX) || !UUID.test(recordingId)) continue;
      const info = await stat(path.join(this.dir, name)).catch(() => undefined);
      if (info) yield { recordingId, modifiedAt: info.mtime };
    }
  }

  private file(recordingId: string): string {
    if (!UUID.test(recordingId)) throw new Error(`not a recording id: ${recordingId}`);
    return path.join(this.dir, recordingId + SUFFIX);
  }
}
