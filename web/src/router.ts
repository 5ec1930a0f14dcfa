import { DASHBOARD_PAGES, type DashboardPage } from '../../src/domain/dashboard-pages.js'

export interface Route {
  page: DashboardPage
  id?: string
  params: URLSearchParams
}

const patterns = (Object.entries(DASHBOARD_PAGES) as [DashboardPage, string][]).map(([page, pattern]) => ({
  page,
  regex: new RegExp(`^${pattern.replace(':id', '([^/]+)')}/?$`),
}))

export function match(location: Location | URL): Route | null {
  for (const { page, regex } of patterns) {
    const m = regex.exec(location.pathname)
    if (m) {
      const raw = m[1]
      return {
        page,
        ...(raw === undefined ? {} : { id: decodeURIComponent(raw) }),
        params: new URLSearchParams(location.search),
      }
    }
  }
  return null
}

/** What the signed-in key may do: actions need admin (everything is allowed with authentication off). */
export interface Viewer {
  canAct: boolean
}

type Listener = (options: { focus: boolean }) => void
const listeners: Listener[] = []

export function onNavigate(listener: Listener): void {
  listeners.push(listener)
}

/** Goes to a path of this app without reloading (the filters of a table live in its URL: shareable). */
export function navigate(path: string, options: { replace?: boolean; focus?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  for (const listener of listeners) listener({ focus: options.focus ?? true })
}

/** Shows the current page again with fresh data (after an action): what changed is visible at once. */
export function refresh(): void {
  navigate(location.pathname + location.search, { replace: true, focus: false })
}

/** Same-origin links to the app's pages navigate in place; others (and modified clicks) behave as links do. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const link = (event.target as Element).closest('a')
    if (!link || link.target || link.hasAttribute('download')) return
    const url = new URL(link.href, location.href)
    if (url.origin !== location.origin || !match(url)) return
    event.preventDefault()
    navigate(url.pathname + url.search)
  })
  window.addEventListener('popstate', () => {
    for (const listener of listeners) listener({ focus: true })
  })
}
