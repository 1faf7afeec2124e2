// The Files API as the Files view uses it. Reads are GET, changes POST with JSON, and an
// upload is a PUT of the raw file through XMLHttpRequest, the one browser API that reports
// upload progress and can be cancelled.
// Types only, from the part of the protocol that has no Node.js in it.
import type { Listing, TextFile } from '@sallyport/sftp-protocol/answers';
import { ApiError, request, toApiError } from '../api.js';

export type { Entry, Listing, TextFile } from '@sallyport/sftp-protocol/answers';

export type SortKey = 'name' | 'size' | 'mtime';

const base = (serverId: string, op: string) =>
  `/api/servers/${encodeURIComponent(serverId)}/files/${op}`;

const withQuery = (path: string, params: Record<string, string | number | boolean | undefined>) => {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) query.set(key, String(value));
  return `${path}?${query.toString()}`;
};

export const filesApi = {
  list: (
    serverId: string,
    options: {
      path?: string;
      offset: number;
      limit: number;
      sort: SortKey;
      order: 'asc' | 'desc';
      hidden: boolean;
    },
  ) => request<Listing>('GET', withQuery(base(serverId, 'list'), options)),
  text: (serverId: string, path: string) =>
    request<TextFile>('GET', withQuery(base(serverId, 'text'), { path })),
  mkdir: (serverId: string, path: string) =>
    request<unknown>('POST', base(serverId, 'mkdir'), { path }),
  rename: (serverId: string, from: string, to: string) =>
    request<unknown>('POST', base(serverId, 'rename'), { from, to }),
  remove: (serverId: string, path: string, recursive: boolean) =>
    request<{ removed: number }>('POST', base(serverId, 'delete'), { path, recursive }),
  chmod: (serverId: string, path: string, mode: string) =>
    request<unknown>('POST', base(serverId, 'chmod'), { path, mode }),
  /** Where the browser downloads a file (or, for images and PDFs, shows it). */
  downloadUrl: (serverId: string, path: string, inline = false) =>
    withQuery(base(serverId, 'download'), { path, inline: inline || undefined }),
  zipUrl: (serverId: string, path: string) => withQuery(base(serverId, 'zip'), { path }),
};

export interface Upload {
  /** Settles when the upload is done (or failed, or was cancelled: ApiError code "cancelled"). */
  done: Promise<void>;
  cancel(): void;
}

/** Uploads one file (or edited text) to `path`, reporting progress as a fraction. */
export function uploadFile(
  serverId: string,
  path: string,
  body: Blob,
  options: { overwrite?: boolean; ifMatch?: string; onProgress?: (fraction: number) => void } = {},
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open(
      'PUT',
      withQuery(base(serverId, 'upload'), {
        path,
        overwrite: options.overwrite || undefined,
        ifMatch: options.ifMatch,
      }),
    );
    // Never the file's own type: the gateway takes only raw bytes for an upload.
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0)
        options.onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let payload: unknown;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        payload = undefined;
      }
      reject(toApiError({ status: xhr.status, statusText: xhr.statusText }, payload));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network', 'the upload failed: the connection was lost'));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', 'cancelled'));
    xhr.send(body);
  });
  return { done, cancel: () => xhr.abort() };
}
