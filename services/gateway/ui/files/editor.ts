// The in-browser editor: CodeMirror 6 on a text file, saved back with the hash it was opened
// with, so a file changed by someone else meanwhile is not silently overwritten.
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState } from '@codemirror/state';
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { ApiError, errorMessage } from '../api.js';
import { h, setText } from '../dom.js';
import { filesApi, uploadFile, type TextFile } from './api.js';
import { openModal } from './modal.js';

export function openEditor(options: { serverId: string; path: string; onSaved(): void }): void {
  const { serverId, path } = options;
  const status = h('span', { id: 'editor-status', class: 'muted', role: 'status' }, 'Loading…');
  const save = h(
    'button',
    { id: 'editor-save', type: 'button', class: 'primary', disabled: true },
    'Save',
  );
  const conflict = h('div', {
    id: 'editor-conflict',
    class: 'conflict',
    role: 'alert',
    hidden: true,
  });
  const host = h('div', { id: 'editor', class: 'editor-host' });
  let opened: TextFile | undefined;
  let saved = '';
  let view: EditorView | undefined;

  const dirty = () => view !== undefined && view.state.doc.toString() !== saved;
  const modal = openModal({
    id: 'editor-modal',
    title: path,
    content: [conflict, host],
    actions: [status, save],
    onClose: () => {
      if (dirty() && !window.confirm('Discard your unsaved changes?')) return;
      view?.destroy();
      modal.close();
    },
  });

  const show = (file: TextFile) => {
    opened = file;
    saved = file.content;
    conflict.hidden = true;
    setText(status, 'Saved');
    save.disabled = false;
    const state = EditorState.create({
      doc: file.content,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        keymap.of([
          { key: 'Mod-s', preventDefault: true, run: () => (void store(false), true) },
          indentWithTab,
          ...defaultKeymap,
          ...historyKeymap,
          ...searchKeymap,
        ]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) setText(status, dirty() ? 'Edited' : 'Saved');
        }),
      ],
    });
    if (view) view.setState(state);
    else view = new EditorView({ state, parent: host });
    view.focus();
  };

  const load = async () => {
    try {
      show(await filesApi.text(serverId, path));
    } catch (err) {
      setText(status, `Cannot open: ${errorMessage(err)}`);
    }
  };

  /** Saves; `force` writes even though the file changed on the server. */
  const store = async (force: boolean): Promise<void> => {
    if (!view || !opened || save.disabled) return;
    const content = view.state.doc.toString();
    save.disabled = true;
    setText(status, 'Saving…');
    try {
      await uploadFile(
        serverId,
        path,
        new Blob([content]),
        force ? { overwrite: true } : { ifMatch: opened.hash },
      ).done;
      // The new hash comes from the server: it is what the next save must match.
      opened = await filesApi.text(serverId, path);
      saved = content;
      setText(status, dirty() ? 'Edited' : 'Saved');
      conflict.hidden = true;
      options.onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) showConflict(err.message);
      else setText(status, `Not saved: ${errorMessage(err)}`);
    } finally {
      save.disabled = false;
    }
  };

  const showConflict = (message: string) => {
    setText(status, 'Not saved');
    const overwrite = h(
      'button',
      { id: 'editor-overwrite', type: 'button', class: 'danger' },
      'Save anyway',
    );
    const reload = h('button', { id: 'editor-reload', type: 'button' }, 'Discard mine and reload');
    overwrite.addEventListener('click', () => void store(true));
    reload.addEventListener('click', () => void load());
    conflict.replaceChildren(h('span', {}, `${message}. `), overwrite, reload);
    conflict.hidden = false;
  };

  save.addEventListener('click', () => void store(false));
  void load();
}
