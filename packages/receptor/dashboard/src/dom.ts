/** Building the page with plain DOM: `h('button', { type: 'button', onclick }, 'Scale')`. */

export type Child = Node | string | number | null | undefined | false;
type Listener = (event: Event) => void;
export type Attributes = Record<string, string | number | boolean | null | undefined | Listener>;

function nodes(children: readonly Child[]): Array<Node | string> {
  return children.flatMap((child) => (child === null || child === undefined || child === false ? [] : [typeof child === 'number' ? String(child) : child]));
}

/** An element with attributes (`on<event>` ones become listeners; `true` sets a bare attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...nodes(children));
  return element;
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...nodes(children));
}

/** The element with this id, of this type; a page without it is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page`);
  return element;
}

/** "3 s ago", "5 min ago": how long ago a moment (ms since the epoch) was. */
export function ago(epochMs: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - epochMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** A `<time>` for a nanosecond timestamp as the API writes it (`since`, `created_at`). */
export function timeOf(nanoseconds: number): HTMLTimeElement {
  const ms = nanoseconds / 1e6;
  const iso = new Date(ms).toISOString();
  return h('time', { datetime: iso, title: iso }, ago(ms));
}
