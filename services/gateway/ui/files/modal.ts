// A modal panel over the page, for the editor and the image preview.
import { h, type Child } from '../dom.js';

export interface Modal {
  element: HTMLElement;
  close(): void;
}

/** Shows `content` over the page; Escape or the close button calls `onClose` (default: close). */
export function openModal(options: {
  id: string;
  title: string;
  content: Child[];
  actions?: Child[];
  onClose?: () => void;
}): Modal {
  const requestClose = () => (options.onClose ? options.onClose() : close());
  const closeButton = h(
    'button',
    { type: 'button', class: 'modal-close', 'aria-label': 'Close' },
    '×',
  );
  closeButton.addEventListener('click', requestClose);
  const element = h(
    'div',
    { class: 'modal-backdrop', id: options.id },
    h(
      'div',
      { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': options.title },
      h(
        'header',
        { class: 'modal-header' },
        h('span', { class: 'modal-title' }, options.title),
        h('span', { class: 'spacer' }),
        ...(options.actions ?? []),
        closeButton,
      ),
      h('div', { class: 'modal-body' }, ...options.content),
    ),
  );
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') requestClose();
  };
  document.addEventListener('keydown', onKey);
  document.body.append(element);
  function close(): void {
    document.removeEventListener('keydown', onKey);
    element.remove();
  }
  return { element, close };
}
