// The directory table: one row per entry, every name rendered as text.
import { h } from '../dom.js';
import type { Entry, SortKey } from './api.js';
import { formatSize, formatTime } from './format.js';

export interface RowActions {
  open(entry: Entry): void;
  download(entry: Entry): void;
  edit(entry: Entry): void;
  rename(entry: Entry): void;
  chmod(entry: Entry): void;
  remove(entry: Entry): void;
}

/** A folder, or a symlink that leads to one: clicking it lists it. */
export const isFolder = (e: Entry): boolean =>
  e.type === 'dir' || (e.type === 'link' && e.target === 'dir');

// Glyphs every common UI font has (emoji fonts are missing on many servers' browsers).
const ICONS: Record<string, string> = { dir: '▸', link: '↪', file: '·', other: '?' };

export function entryRow(
  entry: Entry,
  actions: RowActions,
  readOnly: boolean,
): HTMLTableRowElement {
  const button = (label: string, testid: string, run: () => void, cls = '') =>
    h(
      'button',
      { type: 'button', class: `small ${cls}`, 'data-testid': testid, onclick: run },
      label,
    );
  const folder = isFolder(entry);
  const kind = entry.type === 'link' ? `link to ${entry.target ?? 'unknown'}` : entry.type;
  return h(
    'tr',
    { 'data-testid': 'file-row', 'data-name': entry.name, 'data-type': entry.type },
    h(
      'td',
      { class: 'file-name' },
      h('span', { class: 'icon', 'aria-hidden': 'true', title: kind }, ICONS[entry.type] ?? ''),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'data-testid': 'file-open',
          onclick: () => actions.open(entry),
        },
        entry.name,
      ),
    ),
    h('td', { class: 'num' }, folder ? '' : formatSize(entry.size)),
    h('td', { class: 'mono' }, entry.permissions),
    h('td', {}, entry.owner, h('span', { class: 'muted' }, `:${entry.group}`)),
    h('td', { class: 'nowrap' }, formatTime(entry.mtime)),
    h(
      'td',
      { class: 'row-actions' },
      button(folder ? 'ZIP' : 'Download', 'file-download', () => actions.download(entry)),
      !folder && !readOnly ? button('Edit', 'file-edit', () => actions.edit(entry)) : null,
      readOnly ? null : button('Rename', 'file-rename', () => actions.rename(entry)),
      readOnly ? null : button('Mode', 'file-chmod', () => actions.chmod(entry)),
      readOnly ? null : button('Delete', 'file-delete', () => actions.remove(entry), 'danger'),
    ),
  );
}

/** A sortable column header: clicking it sorts by that key, again reverses. */
export function sortHeader(
  label: string,
  key: SortKey,
  current: { sort: SortKey; order: 'asc' | 'desc' },
  onSort: (key: SortKey) => void,
): HTMLTableCellElement {
  const arrow = current.sort === key ? (current.order === 'asc' ? ' ▲' : ' ▼') : '';
  return h(
    'th',
    {
      'aria-sort':
        current.sort === key ? (current.order === 'asc' ? 'ascending' : 'descending') : undefined,
    },
    h(
      'button',
      { type: 'button', class: 'link', 'data-testid': `sort-${key}`, onclick: () => onSort(key) },
      label + arrow,
    ),
  );
}
