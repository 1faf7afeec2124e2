// A child process that moves files through the gateway's Files API as the browser's Files page
// does (a PUT of the raw bytes to /files/upload, a GET of /files/download), one transfer per
// IPC request. It stands in for the browser, which is a process of its own, as OpenSSH's
// `sftp` client is on the baseline's side: the transfer does not share a heap and its garbage
// collections with the bench's own bookkeeping (see child.ts). Driven by scenarios/sftp.ts.
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { serveRequests } from './child.js';

export interface TransferRequest {
  op: 'upload' | 'download';
  /** The full URL of the Files API call. */
  url: string;
  cookie: string;
  /** The local file: read for an upload, written for a download. */
  file: string;
  /** Upload: its size, sent as Content-Length. */
  bytes?: number;
}

export type TransferReply =
  | {
      status: number;
      /** The answer's JSON (upload) or nothing (download). */
      body: unknown;
      /** From sending the request to the last byte of the answer. */
      seconds: number;
      /** This process's CPU over the same span, ms. */
      cpuMs: number;
    }
  | { error: string };

serveRequests(async (req: TransferRequest): Promise<TransferReply> => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { status, body } = await transfer(req);
  const used = process.cpuUsage(cpu);
  return {
    status,
    body,
    seconds: (performance.now() - started) / 1000,
    cpuMs: (used.user + used.system) / 1000,
  };
});

function transfer(req: TransferRequest): Promise<{ status: number; body: unknown }> {
  const url = new URL(req.url);
  return new Promise((resolve, reject) => {
    const fd = req.op === 'download' ? openSync(req.file, 'w') : undefined;
    let settled = false;
    const done = (err: Error | undefined, result?: { status: number; body: unknown }): void => {
      if (settled) return;
      settled = true;
      if (fd !== undefined) closeSync(fd);
      if (err) reject(err);
      else resolve(result!);
    };
    const outgoing = request(
      url,
      {
        method: req.op === 'upload' ? 'PUT' : 'GET',
        headers: {
          cookie: req.cookie,
          origin: url.origin,
          ...(req.op === 'upload'
            ? {
                'content-type': 'application/octet-stream',
                'content-length': String(req.bytes),
              }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          // The download is saved as it arrives with plain write(2) calls, as OpenSSH's `get`
          // does; an upload's answer is a small JSON document.
          if (fd === undefined) chunks.push(chunk);
          else for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done(undefined, { status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
        res.on('error', done);
      },
    );
    outgoing.on('error', done);
    if (req.op === 'download') outgoing.end();
    else pipeline(createReadStream(req.file), outgoing).catch(done);
  });
}
