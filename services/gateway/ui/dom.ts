// A tiny element builder. Strings always become text nodes, never markup: every server-provided
// value (server names, messages, tags) is rendered as text, so `<script>` shows literally.

type Listener = (event: Event) => void;
type AttrValue = string | number | boolean | null | undefined | Listener;
export type Attrs = Record<string, AttrValue>;
export type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element. `on<event>` attributes take listeners, `class` sets the class name,
 * `value` sets the form value, `true` sets a boolean attribute, and null/undefined/false skip it.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') {
      if (!name.startsWith('on')) throw new Error(`listener for ${name} must be named on<event>`);
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (
      name === 'value' &&
      (el instanceof HTMLInputElement ||
        el instanceof HTMLTextAreaElement ||
        el instanceof HTMLSelectElement)
    ) {
      el.value = String(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number'
        ? document.createTextNode(String(child))
        : child,
    );
  }
}

/** Replaces an element's content with text. */
export function setText(el: Element, text: string): void {
  el.textContent = text;
}

/** A labelled form field: <label for=id>text</label> input, plus an error line for that field. */
export function field(
  label: string,
  control: HTMLElement,
  options: { hint?: string; errorId?: string } = {},
): HTMLDivElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    options.hint ? h('div', { class: 'hint' }, options.hint) : null,
    options.errorId ? h('div', { class: 'field-error', id: options.errorId, role: 'alert' }) : null,
  );
}
