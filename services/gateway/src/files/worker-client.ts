import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { AppError } from '@sallyport/errors';
import {
  signRequest,
  toQuery,
  workerPath,
  type FileOperation,
  type InternalIdentity,
} from '@sallyport/sftp-protocol';
import type { GatewayContext } from '../http/context.js';

// What the worker's answer may pass on to the browser; nothing else of its headers is relayed.
const RELAYED = [
  'content-type',
  'content-length',
  'content-disposition',
  'last-modified',
  'cache-control',
];

export interface FileForward {
  op: FileOperation;
  method: string;
  serverId: string;
  params: Record<string, string | number | boolean | undefined>;
  identity: InternalIdentity;
  /** The browser's upload, streamed on as it arrives. */
  body?: IncomingMessage;
}

/**
 * Forwards file requests to the sftp-worker, signed, and streams both ways: an upload goes on
 * as the browser sends it and a download back as the worker sends it, so no file is held
 * here and either side's slowness slows the other (pipes respect backpressure).
 */
export class SftpWorkerClient {
  private readonly base: URL;
  private readonly agent: HttpAgent;

  constructor(
    workerUrl: string,
    private readonly secret: string,
  ) {
    this.base = new URL(workerUrl);
    // Keep-alive: most file requests are small, and a new connection each time would cost more.
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true })
        : new HttpAgent({ keepAlive: true });
  }

  /** Sends the request and puts the worker's answer (status, safe headers, body) on `ctx`. */
  async forward(ctx: GatewayContext, forward: FileForward): Promise<void> {
    const path = workerPath(forward.serverId, forward.op, toQuery(forward.params));
    const headers: Record<string, string> = signRequest(this.secret, {
      method: forward.method,
      path,
      identity: forward.identity,
    });
    const length = forward.body?.headers['content-length'];
    if (forward.body) {
      headers['content-type'] = 'application/octet-stream';
      if (length) headers['content-length'] = length;
      else headers['transfer-encoding'] = 'chunked';
    }
    const response = await this.send(forward.method, path, headers, forward.body);
    ctx.status = response.statusCode ?? 502;
    for (const name of RELAYED) {
      const value = response.headers[name];
      if (typeof value === 'string') ctx.set(name, value);
    }
    ctx.body = response;
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: IncomingMessage | undefined,
  ): Promise<IncomingMessage> {
    const request = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let answered = false;
      const outgoing = request(
        new URL(path, this.base),
        { method, headers, agent: this.agent },
        (response) => {
          // The worker may answer before the upload is complete (too large, the target gone).
          // The rest of the body still flows to it, to be discarded there: cutting either
          // connection short would reset it, and the browser would see a network error instead
          // of the answer.
          answered = true;
          resolve(response);
        },
      );
      outgoing.on('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH'
            ? new AppError(
                'unavailable',
                'the file service (sftp-worker) is not reachable',
                undefined,
                {
                  cause: err,
                },
              )
            : err, // an AppError (a cancelled upload) passes as it is
        );
      });
      if (!body) return void outgoing.end();
      // A browser that gives up mid-upload: cut the request to the worker, which then removes
      // the partial file. (Once the worker has answered, its answer is what counts.)
      body.on('close', () => {
        if (!body.complete && !answered)
          outgoing.destroy(new AppError('bad_request', 'the upload was cancelled'));
      });
      body.pipe(outgoing);
    });
  }
}
