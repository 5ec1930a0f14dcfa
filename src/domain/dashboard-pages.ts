/**
 * The dashboard's pages, declared once: the server answers these paths with the app's index.html (so a link or a
 * reload opens the page), and the app's router matches the same patterns. Pure: the browser bundle imports it.
 */
export const DASHBOARD_PAGES = {
  overview: '/',
  incidents: '/incidents',
  incident: '/incidents/:id',
  anomalies: '/anomalies',
  customer: '/customers/:id',
  run: '/runs/:id',
} as const

export type DashboardPage = keyof typeof DASHBOARD_PAGES

/** A page's path with its `:id` filled in (encoded). */
export function pagePath(page: DashboardPage, id?: string): string {
  const pattern: string = DASHBOARD_PAGES[page]
  return id === undefined ? pattern : pattern.replace(':id', encodeURIComponent(id))
}
