import { ApiError, api, errorMessage, type Server } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { filesApi, type Entry, type Listing, type SortKey } from '../files/api.js';
import { foldersOf, fromDrop, fromInput, type PickedFile } from '../files/collect.js';
import { openEditor } from '../files/editor.js';
import { baseName, joinPath, previewKind } from '../files/format.js';
import { openModal } from '../files/modal.js';
import { entryRow, isFolder, sortHeader } from '../files/table.js';
import { transfersPanel } from '../files/transfers.js';
import { appHeader } from './header.js';

const PAGE_SIZE = 200;

/** /files/<serverId>?path=…: browse, upload, download, edit and manage files over SFTP. */
export const filesPage: Page = (root, { app, params, query }) => {
  const serverId = params[0] ?? '';
  document.title = 'Files — Sallyport';
  let disposed = false;
  let server: Server | undefined;
  let listing: Listing | undefined;
  const view = {
    path: query.get('path') ?? undefined,
    offset: 0,
    sort: 'name' as SortKey,
    order: 'asc' as 'asc' | 'desc',
    hidden: false,
  };

  const title = h('h1', { id: 'files-title' }, 'Files');
  const crumbs = h('nav', { id: 'files-path', class: 'crumbs', 'aria-label': 'Path' });
  const error = h('div', { id: 'files-error', class: 'form-error', role: 'alert' });
  const head = h('thead', {});
  const rows = h('tbody', { id: 'file-rows' });
  const pager = h('div', { id: 'files-pager', class: 'pager' });
  const hidden = h('input', { id: 'files-hidden', type: 'checkbox' });
  const upInput = h('input', {
    id: 'files-upload-input',
    type: 'file',
    multiple: true,
    hidden: true,
  });
  const folderInput = h('input', { id: 'files-upload-folder-input', type: 'file', hidden: true });
  folderInput.webkitdirectory = true;
  const changeButtons = h('span', { class: 'actions' });

  const fail = (err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(error, errorMessage(err));
  };
  const attempt = (work: () => Promise<unknown>) => () => {
    setText(error, '');
    work().then(() => load(), fail);
  };

  const transfers = transfersPanel({
    onDone: () => void load(),
    confirmReplace: (path) => window.confirm(`${path} already exists. Replace it?`),
  });

  const navigate = (path: string | undefined) => {
    view.path = path;
    view.offset = 0;
    const url =
      path === undefined
        ? `/files/${serverId}`
        : `/files/${serverId}?path=${encodeURIComponent(path)}`;
    history.replaceState(null, '', url);
    void load();
  };

  const here = () => listing?.path ?? '/';
  const target = (input: string) => (input.startsWith('/') ? input : joinPath(here(), input));

  const actions = {
    open: (entry: Entry) => {
      const path = joinPath(here(), entry.name);
      if (isFolder(entry)) return navigate(path);
      const preview = previewKind(entry.name);
      if (preview === 'pdf')
        return void window.open(filesApi.downloadUrl(serverId, path, true), '_blank', 'noopener');
      if (preview === 'image') return showImage(path);
      if (server?.sftpReadOnly) return downloadUrl(filesApi.downloadUrl(serverId, path));
      openEditor({ serverId, path, onSaved: () => void load() });
    },
    download: (entry: Entry) => {
      const path = joinPath(here(), entry.name);
      downloadUrl(
        isFolder(entry) ? filesApi.zipUrl(serverId, path) : filesApi.downloadUrl(serverId, path),
      );
    },
    edit: (entry: Entry) =>
      openEditor({ serverId, path: joinPath(here(), entry.name), onSaved: () => void load() }),
    rename: (entry: Entry) => {
      const to = window.prompt(
        `Rename or move "${entry.name}" to (a name, or a path):`,
        entry.name,
      );
      if (!to || to === entry.name) return;
      attempt(() => filesApi.rename(serverId, joinPath(here(), entry.name), target(to)))();
    },
    chmod: (entry: Entry) => {
      const mode = window.prompt(
        `Permissions of "${entry.name}" (octal, e.g. 644):`,
        entry.mode.toString(8),
      );
      if (!mode) return;
      attempt(() => filesApi.chmod(serverId, joinPath(here(), entry.name), mode.trim()))();
    },
    remove: (entry: Entry) => {
      const folder = entry.type === 'dir';
      const question = folder
        ? `Delete the folder "${entry.name}" and everything in it?`
        : `Delete "${entry.name}"?`;
      if (!window.confirm(question)) return;
      attempt(() => filesApi.remove(serverId, joinPath(here(), entry.name), folder))();
    },
  };

  const showImage = (path: string) => {
    openModal({
      id: 'preview-modal',
      title: path,
      content: [
        h('img', {
          id: 'preview-image',
          src: filesApi.downloadUrl(serverId, path, true),
          alt: baseName(path),
        }),
      ],
    });
  };

  const uploadPicked = async (picked: PickedFile[]) => {
    const dir = here();
    try {
      for (const folder of foldersOf(picked)) {
        await filesApi.mkdir(serverId, joinPath(dir, folder)).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.status === 409)) throw err; // it exists: fine
        });
      }
    } catch (err) {
      return fail(err);
    }
    for (const { relativePath, file } of picked) {
      if (!relativePath.endsWith('/')) transfers.add(serverId, joinPath(dir, relativePath), file);
    }
    if (picked.some((p) => p.relativePath.includes('/'))) void load();
  };

  const renderHead = () =>
    head.replaceChildren(
      h(
        'tr',
        {},
        sortHeader('Name', 'name', view, sortBy),
        sortHeader('Size', 'size', view, sortBy),
        h('th', {}, 'Permissions'),
        h('th', {}, 'Owner'),
        sortHeader('Modified', 'mtime', view, sortBy),
        h('th', {}),
      ),
    );
  const sortBy = (key: SortKey) => {
    view.order = view.sort === key && view.order === 'asc' ? 'desc' : 'asc';
    view.sort = key;
    view.offset = 0;
    void load();
  };

  const renderCrumbs = (path: string) => {
    const parts = path.split('/').filter(Boolean);
    const link = (label: string, to: string) =>
      h('button', { type: 'button', class: 'link crumb', onclick: () => navigate(to) }, label);
    crumbs.replaceChildren(
      link('/', '/'),
      ...parts.flatMap((part, i) => [
        i === 0 ? '' : h('span', { class: 'muted' }, '/'),
        link(part, `/${parts.slice(0, i + 1).join('/')}`),
      ]),
    );
  };

  const renderPager = (l: Listing) => {
    const last = Math.min(l.offset + l.entries.length, l.total);
    const prev = h(
      'button',
      { type: 'button', id: 'files-prev', disabled: l.offset === 0 },
      '‹ Previous',
    );
    const next = h(
      'button',
      { type: 'button', id: 'files-next', disabled: last >= l.total },
      'Next ›',
    );
    prev.addEventListener(
      'click',
      () => ((view.offset = Math.max(0, l.offset - PAGE_SIZE)), void load()),
    );
    next.addEventListener('click', () => ((view.offset = l.offset + PAGE_SIZE), void load()));
    pager.replaceChildren(
      h(
        'span',
        { class: 'muted', id: 'files-count' },
        l.total === 0 ? 'Empty folder' : `${l.offset + 1}–${last} of ${l.total}`,
      ),
      ...(l.total > PAGE_SIZE ? [prev, next] : []),
    );
  };

  const load = async (): Promise<void> => {
    try {
      const l = await filesApi.list(serverId, { ...view, limit: PAGE_SIZE });
      if (disposed) return;
      listing = l;
      view.path = l.path;
      setText(error, '');
      renderHead();
      renderCrumbs(l.path);
      const up = l.parent
        ? h(
            'tr',
            { 'data-testid': 'file-up' },
            h(
              'td',
              { colspan: 6 },
              h(
                'button',
                { type: 'button', class: 'link', onclick: () => navigate(l.parent!) },
                '↑ ..',
              ),
            ),
          )
        : null;
      const readOnly = server?.sftpReadOnly ?? true;
      rows.replaceChildren(
        ...(up ? [up] : []),
        ...l.entries.map((e) => entryRow(e, actions, readOnly)),
      );
      renderPager(l);
      root.querySelector('#files-view')?.setAttribute('data-path', l.path);
    } catch (err) {
      if (!disposed) fail(err);
    }
  };

  const toolbarButton = (id: string, label: string, run: () => void) =>
    h('button', { id, type: 'button', onclick: run }, label);

  hidden.addEventListener('change', () => {
    view.hidden = hidden.checked;
    view.offset = 0;
    void load();
  });
  for (const input of [upInput, folderInput]) {
    input.addEventListener('change', () => {
      const picked = fromInput(input);
      input.value = '';
      void uploadPicked(picked);
    });
  }

  const main = h(
    'main',
    { class: 'wide', id: 'files-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('a', { href: '/', 'data-link': true, class: 'button', id: 'files-back' }, '← Servers'),
      title,
      h('span', { class: 'spacer' }),
      h('label', { class: 'inline' }, hidden, ' Show hidden files'),
    ),
    h(
      'div',
      { class: 'toolbar files-bar' },
      crumbs,
      h('span', { class: 'spacer' }),
      toolbarButton('files-refresh', 'Refresh', () => void load()),
      toolbarButton('files-zip', 'Download folder (ZIP)', () =>
        downloadUrl(filesApi.zipUrl(serverId, here())),
      ),
      changeButtons,
    ),
    error,
    h(
      'p',
      { class: 'hint drop-hint' },
      'Drop files or folders anywhere here to upload them into this folder.',
    ),
    transfers.element,
    h('div', { class: 'table-wrap' }, h('table', { id: 'file-table' }, head, rows)),
    pager,
    upInput,
    folderInput,
  );
  main.addEventListener('dragover', (event) => {
    if (server?.sftpReadOnly) return;
    event.preventDefault();
    main.classList.add('dropping');
  });
  main.addEventListener('dragleave', () => main.classList.remove('dropping'));
  main.addEventListener('drop', (event) => {
    event.preventDefault();
    main.classList.remove('dropping');
    if (!event.dataTransfer || server?.sftpReadOnly) return;
    fromDrop(event.dataTransfer).then(uploadPicked, fail);
  });

  root.append(appHeader(app), main);
  rows.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading…')));

  api
    .getServer(serverId)
    .then((found) => {
      if (disposed) return;
      server = found;
      setText(title, `Files · ${found.name}`);
      document.title = `Files · ${found.name} — Sallyport`;
      if (!found.sftpReadOnly) {
        changeButtons.append(
          toolbarButton('files-mkdir', 'New folder', () => {
            const name = window.prompt('Name of the new folder:');
            if (name) attempt(() => filesApi.mkdir(serverId, target(name)))();
          }),
          toolbarButton('files-upload', 'Upload files', () => upInput.click()),
          toolbarButton('files-upload-folder', 'Upload folder', () => folderInput.click()),
        );
      }
      return load();
    })
    .catch(fail);

  return () => {
    disposed = true;
    transfers.dispose();
  };
};

/** Starts a browser download (the login cookie goes with it; the answer is an attachment). */
function downloadUrl(url: string): void {
  const a = h('a', { href: url, download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}
