// The uploads panel: one row per file with a progress bar and Cancel, a few at a time.
import { ApiError, errorMessage } from '../api.js';
import { h, setText } from '../dom.js';
import { uploadFile, type Upload } from './api.js';
import { formatSize } from './format.js';

// Below the gateway's per-user transfer limit, so a big drop never trips it.
const PARALLEL = 2;

interface Job {
  serverId: string;
  path: string;
  file: File;
  row: HTMLElement;
  bar: HTMLProgressElement;
  status: HTMLElement;
  cancel: HTMLButtonElement;
  upload?: Upload;
  cancelled: boolean;
}

export interface Transfers {
  element: HTMLElement;
  /** Queues a file for upload; `onDone` runs after each upload that succeeds. */
  add(serverId: string, path: string, file: File): void;
  /** Cancels everything (the page is being left). */
  dispose(): void;
}

export function transfersPanel(options: {
  onDone(): void;
  /** Asked when a file exists; true replaces it. */
  confirmReplace(path: string): boolean;
}): Transfers {
  const list = h('ul', { class: 'transfer-list' });
  const element = h('section', { id: 'transfers', hidden: true }, h('h2', {}, 'Uploads'), list);
  const queue: Job[] = [];
  const active = new Set<Job>();
  let running = 0;

  const finish = (job: Job, text: string, state: 'done' | 'failed' | 'cancelled') => {
    job.row.dataset.state = state;
    setText(job.status, text);
    job.cancel.hidden = true;
  };

  const start = async (job: Job, overwrite = false): Promise<void> => {
    job.row.dataset.state = 'running';
    setText(job.status, 'Uploading…');
    job.upload = uploadFile(job.serverId, job.path, job.file, {
      overwrite,
      onProgress: (fraction) => (job.bar.value = fraction),
    });
    try {
      await job.upload.done;
      job.bar.value = 1;
      finish(job, 'Done', 'done');
      options.onDone();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'cancelled')
        return finish(job, 'Cancelled', 'cancelled');
      if (err instanceof ApiError && err.status === 409 && !overwrite && !job.cancelled) {
        if (options.confirmReplace(job.path)) return start(job, true);
        return finish(job, 'Skipped: it already exists', 'cancelled');
      }
      finish(job, `Failed: ${errorMessage(err)}`, 'failed');
    }
  };

  const pump = (): void => {
    while (running < PARALLEL && queue.length > 0) {
      const job = queue.shift()!;
      if (job.cancelled) continue;
      running += 1;
      active.add(job);
      void start(job).finally(() => {
        active.delete(job);
        running -= 1;
        pump();
      });
    }
  };

  return {
    element,
    add(serverId, path, file) {
      const bar = h('progress', { max: 1, value: 0 });
      const status = h('span', { class: 'transfer-status' }, 'Waiting');
      const cancel = h('button', { type: 'button', class: 'small' }, 'Cancel');
      const row = h(
        'li',
        { class: 'transfer', 'data-testid': 'transfer', 'data-state': 'waiting' },
        h('span', { class: 'transfer-name' }, path),
        h('span', { class: 'muted' }, formatSize(file.size)),
        bar,
        status,
        cancel,
      );
      const job: Job = { serverId, path, file, row, bar, status, cancel, cancelled: false };
      cancel.addEventListener('click', () => {
        job.cancelled = true;
        if (job.upload) job.upload.cancel();
        else finish(job, 'Cancelled', 'cancelled');
      });
      list.prepend(row);
      element.hidden = false;
      queue.push(job);
      pump();
    },
    dispose() {
      queue.length = 0;
      for (const job of active) job.upload?.cancel();
    },
  };
}
