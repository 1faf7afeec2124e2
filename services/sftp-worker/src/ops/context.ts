import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FileOperation, FileParams } from '@sallyport/sftp-protocol';
import type { SftpConnection } from '../connection.js';
import type { PathGuard } from '../guard.js';

/** What an operation gets: its parsed parameters, a connection, and the path rules to use. */
export interface OpContext<Op extends FileOperation> {
  params: FileParams<Op>;
  conn: SftpConnection;
  guard: PathGuard;
  limits: { maxUploadBytes: number; maxZipBytes: number };
  /** The request, whose body an upload streams to the target. */
  request: IncomingMessage;
  /** Records a change (or a download) with its full canonical path. */
  audit: (action: string, details: Record<string, unknown>) => Promise<void>;
  /** Counts transferred bytes for the metrics. */
  countBytes: (n: number) => void;
}

/** An operation's answer: JSON, or a stream with its headers. */
export type Reply =
  | { kind: 'json'; status?: number; body: unknown }
  | {
      kind: 'stream';
      stream: Readable;
      type: string;
      length?: number;
      filename: string;
      inline: boolean;
      lastModified?: Date;
    };

export type Operation<Op extends FileOperation> = (op: OpContext<Op>) => Promise<Reply>;
