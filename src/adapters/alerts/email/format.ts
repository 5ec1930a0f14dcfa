import {
  type Alert,
  type DigestAlert,
  detectionWindow,
  type IncidentAlert,
  type JobHealthAlert,
  type StormAlert,
} from '../../../domain/alert.js'
import { toIso } from '../../../domain/time.js'
// One wording for subjects across channels: an email and an SNS notification of the same alert read alike.
import { alertSubject, formatDuration } from '../sns/format.js'

/** " (recent window)" after the window's times, when the alert names the window. */
const named = (window: string | null) => (window ? ` (${window})` : '')

/** A digest longer than this lists its newest rows and says how many it left out. */
export const EMAIL_TABLE_MAX = 200

/** What a mail says, before it is rendered as plain text and as HTML. */
export interface MailDocument {
  heading: string
  rows: [label: string, value: string][]
  table?: { caption: string; columns: string[]; rows: string[][]; omitted: number }
  link: string | null
  footer: string
}

export interface EmailMessage {
  subject: string
  text: string
  html: string
}

export function formatNumber(value: number | null): string {
  if (value === null) return 'n/a'
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function time(ms: number | null): string {
  return ms === null ? '-' : toIso(ms)
}

function incidentDocument(alert: IncidentAlert): MailDocument {
  const { incident: i, detection: d } = alert
  return {
    heading: alert.title,
    rows: [
      ['Customer', i.customerId],
      ['Metric', i.metric],
      ['Transition', alert.transition],
      ['Severity', i.severity],
      ['Direction', i.direction],
      ['Current value', formatNumber(d.currentValue)],
      ['Baseline mean', formatNumber(d.baselineMean)],
      ['Baseline stddev', formatNumber(d.baselineStddev)],
      ...(d.signal === 'shape'
        ? ([
            ['Shape similarity', formatNumber(d.shapeSimilarity ?? null)],
            ['Shape threshold', formatNumber(d.shapeThreshold ?? null)],
          ] as [string, string][])
        : ([['Z-score', formatNumber(d.zScore)]] as [string, string][])),
      ['Detected at', toIso(d.slot)],
      ['Window', `${toIso(d.windowStart)} to ${toIso(d.windowEnd)}${named(detectionWindow(d))}`],
      ['Incident', i.id],
      ['Opened at', toIso(i.openedAt)],
      ...(i.resolvedAt === null ? [] : [['Resolved at', toIso(i.resolvedAt)] as [string, string]]),
      ['Peak z-score', formatNumber(i.peakZScore)],
      ['Signal', d.signal],
      ['Opened by signal', i.openedBySignal],
      ['Firing signals', i.firingSignals.length > 0 ? i.firingSignals.join(', ') : 'none'],
    ],
    link: alert.link,
    footer: `Alert ${alert.id}`,
  }
}

function stormDocument(alert: StormAlert): MailDocument {
  const { storm: s } = alert
  return {
    heading: alert.title,
    rows: [
      ['Run', s.runId],
      ['Slot', toIso(s.slot)],
      ['Incidents opened', String(s.opened)],
      ['Storm limit', String(s.limit)],
    ],
    table: {
      caption: `Held incidents (first ${s.sample.length} of ${s.opened}); their own alerts were not sent`,
      columns: ['Customer', 'Metric', 'Severity', 'Direction', 'Incident'],
      rows: s.sample.map((x) => [x.customerId, x.metric, x.severity, x.direction, x.incidentId]),
      omitted: 0,
    },
    link: alert.link,
    footer: `Alert ${alert.id}`,
  }
}

function jobHealthDocument(alert: JobHealthAlert): MailDocument {
  const { job } = alert
  return {
    heading: alert.title,
    rows: [
      ['Problem', job.problem === 'failed' ? 'the detection run failed' : 'the detection run was slow'],
      ['Run', job.runId],
      ['Slot', toIso(job.slot)],
      ['Duration', job.durationMs === null ? '-' : formatDuration(job.durationMs)],
      ['Limit', job.limitMs === null ? '-' : formatDuration(job.limitMs)],
      ...(job.error === null ? [] : [['Error', job.error] as [string, string]]),
    ],
    link: alert.link,
    footer: `Alert ${alert.id}`,
  }
}

function digestDocument(alert: DigestAlert): MailDocument {
  const { digest: d } = alert
  const shown = d.incidents.slice(0, EMAIL_TABLE_MAX)
  return {
    heading: `Incident digest, ${toIso(d.from)} to ${toIso(d.to)}`,
    rows: [
      ['Opened', String(d.opened)],
      ['Resolved', String(d.resolved)],
      ['Still open', String(d.stillOpen)],
    ],
    table: {
      caption: 'Incidents opened in the period or still open, newest first',
      columns: [
        'Status',
        'Severity',
        'Customer',
        'Metric',
        'Direction',
        'Opened at',
        'Resolved at',
        'Peak z',
      ],
      rows: shown.map((i) => [
        i.status,
        i.severity,
        i.customerId,
        i.metric,
        i.direction,
        toIso(i.openedAt),
        time(i.resolvedAt),
        formatNumber(i.peakZScore),
      ]),
      omitted: d.incidents.length - shown.length,
    },
    link: alert.link,
    footer: `Digest ${alert.id}`,
  }
}

export function mailDocument(alert: Alert): MailDocument {
  switch (alert.kind) {
    case 'incident':
      return incidentDocument(alert)
    case 'storm':
      return stormDocument(alert)
    case 'job_health':
      return jobHealthDocument(alert)
    case 'digest':
      return digestDocument(alert)
  }
}

export function renderText(doc: MailDocument): string {
  const width = Math.max(...doc.rows.map(([label]) => label.length)) + 2
  const lines = [doc.heading, '', ...doc.rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`)]
  if (doc.table !== undefined) {
    lines.push('', `${doc.table.caption}:`)
    if (doc.table.rows.length === 0) lines.push('  (none)')
    for (const row of doc.table.rows) lines.push(`  ${row.join(' | ')}`)
    if (doc.table.omitted > 0) lines.push(`  ... and ${doc.table.omitted} more`)
  }
  if (doc.link !== null) lines.push('', `Open in MeterFlow: ${doc.link}`)
  lines.push('', '--', doc.footer, '')
  return lines.join('\n')
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** Only web links become anchors: a configured URL is never turned into a javascript: or data: href. */
function linkHtml(link: string): string {
  const text = escapeHtml(link)
  return /^https?:\/\//i.test(link) ? `<a href="${text}">Open in MeterFlow</a>` : text
}

const CELL = 'style="padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"'

export function renderHtml(doc: MailDocument): string {
  const parts = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(doc.heading)}</h2>`,
    '<table>',
    ...doc.rows.map(
      ([label, value]) =>
        `<tr><th ${CELL}>${escapeHtml(label)}</th><td ${CELL}>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
  ]
  if (doc.table !== undefined) {
    const { caption, columns, rows, omitted } = doc.table
    parts.push(
      `<h3>${escapeHtml(caption)}</h3>`,
      '<table style="border-collapse:collapse">',
      `<tr>${columns.map((c) => `<th ${CELL}>${escapeHtml(c)}</th>`).join('')}</tr>`,
      ...rows.map((row) => `<tr>${row.map((v) => `<td ${CELL}>${escapeHtml(v)}</td>`).join('')}</tr>`),
      '</table>',
    )
    if (rows.length === 0) parts.push('<p>(none)</p>')
    if (omitted > 0) parts.push(`<p>... and ${omitted} more</p>`)
  }
  if (doc.link !== null) parts.push(`<p>${linkHtml(doc.link)}</p>`)
  parts.push(`<p style="color:#888">${escapeHtml(doc.footer)}</p>`, '</body></html>')
  return parts.join('\n')
}

export function emailMessage(alert: Alert): EmailMessage {
  const doc = mailDocument(alert)
  return { subject: alertSubject(alert), text: renderText(doc), html: renderHtml(doc) }
}

/**
 * The Message-ID for one delivery: the same delivery id always gives the same id, so a mail re-sent after a lost
 * reply is recognisably the same message. Characters outside [A-Za-z0-9_-] are %-encoded (injective, and always
 * a valid id-left); the right side is the sender's domain.
 */
export function messageId(deliveryId: string, from: string): string {
  const left = Array.from(new TextEncoder().encode(deliveryId), (byte) => {
    const c = String.fromCharCode(byte)
    return /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }).join('')
  const domain = from.slice(from.lastIndexOf('@') + 1).replace(/[^A-Za-z0-9.-]/g, '') || 'meterflow.local'
  return `<${left || 'alert'}@${domain}>`
}
