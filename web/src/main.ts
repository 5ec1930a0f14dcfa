import './style.css'
import { ApiError, api, type Session, sessionLost } from './api'
import { button, h, heading, notice } from './dom'
import { customerPage } from './pages/customer'
import { incidentPage } from './pages/incident'
import { anomaliesPage, incidentsPage } from './pages/lists'
import { overviewPage } from './pages/overview'
import { runPage } from './pages/run'
import { interceptLinks, match, onNavigate, type Route, type Viewer } from './router'

const main = document.getElementById('main') as HTMLElement
const who = document.getElementById('who') as HTMLElement
/** Set by the server when it serves the page: off, signed-in or signed-out (no request needed to know). */
const initial = document.querySelector<HTMLMetaElement>('meta[name="meterflow-session"]')?.content ?? ''
let session: Session | null = null
let signedOut = initial === 'signed-out'
let rendering = 0

const pages: Record<Route['page'], (route: Route, viewer: Viewer) => Promise<HTMLElement>> = {
  overview: overviewPage,
  incidents: incidentsPage,
  incident: incidentPage,
  anomalies: anomaliesPage,
  customer: customerPage,
  run: runPage,
}

async function render(): Promise<void> {
  const ticket = ++rendering
  const route = match(location)
  markCurrentNav()
  if (signedOut) return showSignIn()
  if (!session) {
    try {
      session = await api<Session>('/v1/session')
    } catch (err) {
      if (signedOut) return showSignIn()
      return show(failure(err))
    }
    showWho()
  }
  if (!route) {
    return show(
      h(
        'section',
        {},
        heading('Page not found'),
        notice(
          'empty',
          'There is no dashboard page at this address.',
          'Go to the overview.',
          h('a', { href: '/' }, 'Overview'),
        ),
      ),
    )
  }
  main.setAttribute('aria-busy', 'true')
  const viewer: Viewer = {
    canAct: session.auth === 'off' || (session.key?.scopes.includes('admin') ?? false),
  }
  let content: HTMLElement
  try {
    content = await pages[route.page](route, viewer)
  } catch (err) {
    if (signedOut) return showSignIn()
    content = failure(err)
  }
  // A later navigation won: drop this one.
  if (ticket !== rendering) return
  show(content)
}

function show(content: HTMLElement): void {
  main.replaceChildren(content)
  main.removeAttribute('aria-busy')
  const title = content.querySelector('h1')?.textContent
  document.title = title ? `${title} · MeterFlow` : 'MeterFlow'
}

/** After a navigation, focus goes to the page's heading, as a page load would put it at the top. */
function focusHeading(): void {
  main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: false })
}

function failure(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err)
  const next =
    err instanceof ApiError && err.status === 403
      ? 'This key may not read this: sign in with a key that has the read scope (or admin).'
      : err instanceof ApiError && err.status === 404
        ? 'It may have expired (anomalies and incidents are kept 90 days). Go back to the overview.'
        : 'Reload the page; if it keeps failing, check the server log.'
  return h(
    'section',
    {},
    heading('Something went wrong'),
    notice(
      'error',
      message,
      next,
      button('Reload', () => location.reload()),
    ),
  )
}

function markCurrentNav(): void {
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const here = new URL(link.href).pathname
    const current = here === '/' ? location.pathname === '/' : location.pathname.startsWith(here)
    if (current) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
}

function showWho(): void {
  if (!session || session.auth === 'off') {
    who.replaceChildren(
      h('span', { class: 'muted', title: 'METERFLOW_AUTH=off: loopback only' }, 'Open access (auth off)'),
    )
    return
  }
  who.replaceChildren(
    h(
      'span',
      { class: 'muted' },
      `Key: ${session.key?.name ?? '?'} (${session.key?.scopes.join(', ') ?? ''})`,
    ),
    button('Sign out', async () => {
      await api('/v1/session', { method: 'DELETE' }).catch(() => undefined)
      session = null
      signedOut = true
      who.replaceChildren()
      showSignIn()
    }),
  )
}

function showSignIn(message?: string): void {
  const input = h('input', {
    id: 'api-key',
    name: 'api_key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'mf_…',
  })
  const error = h('p', { class: 'form-error', role: 'alert' }, message ?? '')
  const form = h(
    'form',
    { class: 'sign-in' },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    try {
      await api('/v1/session', { method: 'POST', body: { api_key: input.value.trim() } })
      input.value = ''
      signedOut = false
      session = null
      await render()
      focusHeading()
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401
          ? 'That key is not valid (or was revoked). Check it and try again.'
          : err instanceof Error
            ? err.message
            : String(err)
    }
  })
  show(
    h(
      'section',
      { class: 'narrow' },
      heading('Sign in'),
      h(
        'p',
        {},
        'Paste an API key (the admin key printed at the first start, or one from `meterflow keys create`). ',
        'It is sent once; the server keeps it in an HttpOnly cookie no script can read, for 12 hours.',
      ),
      form,
    ),
  )
  input.focus()
}

sessionLost.addEventListener('lost', () => {
  if (initial === 'off') return
  signedOut = true
  session = null
  who.replaceChildren()
})

interceptLinks(document.body)
onNavigate(({ focus }) => {
  render().then(() => {
    if (focus) focusHeading()
  })
})
render()
