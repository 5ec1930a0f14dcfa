// Small DOM helpers: elements are built with text nodes (never innerHTML), so no value from the API is markup.

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value)
    else if (value === true) element.setAttribute(name, '')
    else element.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    element.append(child instanceof Node ? child : String(child))
  }
  return element
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})

/** A time in the viewer's timezone; the UTC time on hover (title) and for machines (datetime). */
export function time(iso: string | null): HTMLElement | string {
  if (iso === null) return '—'
  const date = new Date(iso)
  return h(
    'time',
    { datetime: iso, title: `${date.toISOString().replace('.000Z', 'Z')} (UTC)` },
    dateTime.format(date),
  )
}

export function localTime(ms: number): string {
  return dateTime.format(new Date(ms))
}

const compact = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

export function num(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  if (Math.abs(value) >= 1e6)
    return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 2 }).format(value)
  return compact.format(value)
}

export function z(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`
}

export function badge(text: string, kind: string = text): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text.replace('_', ' '))
}

/** A message that says what happened and what to do next (empty lists, errors). */
export function notice(
  kind: 'empty' | 'error',
  title: string,
  next: string,
  action?: HTMLElement,
): HTMLElement {
  return h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('p', { class: 'notice-title' }, title),
    h('p', {}, next),
    action,
  )
}

/** A column header: its text, and the order it is sorted in if the table is sorted by it (aria-sort). */
export type Header =
  | string
  | { text: string; numeric?: boolean | undefined; sort?: 'ascending' | 'descending' | undefined }

export function table(headers: Header[], rows: HTMLTableRowElement[], caption?: string): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((t) =>
            typeof t === 'string'
              ? h('th', { scope: 'col' }, t)
              : h(
                  'th',
                  { scope: 'col', class: t.numeric ? 'num' : undefined, 'aria-sort': t.sort },
                  t.text,
                  t.sort ? h('span', { 'aria-hidden': 'true' }, t.sort === 'ascending' ? ' ▲' : ' ▼') : null,
                ),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
  )
}

export function button(label: string, onClick: (event: Event) => void, attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', ...attrs, onclick: onClick }, label)
}

export function heading(text: string, sub?: Child): HTMLElement {
  return h(
    'div',
    { class: 'page-head' },
    h('h1', { tabindex: -1 }, text),
    sub ? h('p', { class: 'sub' }, sub) : null,
  )
}
