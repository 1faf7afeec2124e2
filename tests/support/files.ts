// The gateway's Files API as a script would use it, with uploads and downloads streamed
// through node:http so tests can move files far larger than memory.
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from './api.js';

export type Query = Record<string, string | number | boolean>;

const query = (params: Query) =>
  new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();

export const filesPath = (serverId: string, op: string, params: Query = {}) =>
  `/api/servers/${serverId}/files/${op}?${query(params)}`;

/** GET or POST a file operation; answers status and parsed JSON. */
export function fileOp(client: ApiClient, serverId: string, op: string, params: Query = {}) {
  return ['list', 'stat', 'text', 'download', 'zip'].includes(op)
    ? client.request('GET', filesPath(serverId, op, params))
    : client.request('POST', `/api/servers/${serverId}/files/${op}`, params);
}

/** Streams `body` as an upload; resolves with the status and the JSON answer. */
export function upload(
  client: ApiClient,
  serverId: string,
  params: Query,
  body: Readable | Buffer | string,
  length?: number,
): Promise<{ status: number; body: any }> {
  const size =
    length ??
    (typeof body === 'string'
      ? Buffer.byteLength(body)
      : Buffer.isBuffer(body)
        ? body.length
        : undefined);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(filesPath(serverId, 'upload', params), client.baseUrl),
      {
        method: 'PUT',
        // A connection of its own: after an early answer (413, 403) the server drops the rest
        // of the body and the connection with it, which a pooled socket would trip over.
        agent: false,
        headers: {
          cookie: client.cookie,
          origin: client.origin,
          'content-type': 'application/octet-stream',
          ...(size === undefined ? {} : { 'content-length': String(size) }),
        },
      },
      (res) => {
        answered = true;
        void readJson(res).then(resolve, reject);
      },
    );
    // An early answer (413, 502) is followed by the server closing the connection: once the
    // answer is here, the failed rest of the upload does not matter.
    let answered = false;
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (Buffer.isBuffer(body) || typeof body === 'string') req.end(body);
    else
      pipeline(body, req).catch((err: Error) => {
        if (!answered) reject(err);
      });
  });
}

async function readJson(res: IncomingMessage): Promise<{ status: number; body: any }> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined };
}

/** Streams a download into a SHA-256 without keeping it; resolves with status, size and hash. */
export function downloadHash(
  client: ApiClient,
  serverId: string,
  op: 'download' | 'zip',
  params: Query,
): Promise<{ status: number; bytes: number; sha256: string; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(filesPath(serverId, op, params), client.baseUrl),
      { headers: { cookie: client.cookie } },
      (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            bytes,
            sha256: hash.digest('hex'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A download's bytes, for small files. */
export async function downloadBytes(
  client: ApiClient,
  serverId: string,
  op: 'download' | 'zip',
  params: Query,
) {
  const res = await fetch(new URL(filesPath(serverId, op, params), client.baseUrl), {
    headers: { cookie: client.cookie },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * `megabytes` of varied, reproducible bytes: a random block whose first bytes carry the block
 * number, so every block differs and a swapped or repeated block changes the checksum.
 */
export function generatedData(megabytes: number): {
  stream: Readable;
  sha256: Promise<string>;
  length: number;
} {
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const hash = createHash('sha256');
  let done!: (hex: string) => void;
  const sha256 = new Promise<string>((resolve) => (done = resolve));
  let index = 0;
  const stream = new Readable({
    read() {
      if (index === megabytes) {
        done(hash.digest('hex'));
        return void this.push(null);
      }
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(index++, 0);
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256, length: megabytes * 1024 * 1024 };
}
