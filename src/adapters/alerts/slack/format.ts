import {
  type Alert,
  type DigestAlert,
  detectionStatistic,
  detectionWindow,
  type IncidentAlert,
  type JobHealthAlert,
  type StormAlert,
} from '../../../domain/alert.js'
import { truncate } from '../http.js'

/** Slack's documented Block Kit limits; a message over any of them is refused with invalid_blocks. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  fallbackText: 3000,
} as const

export interface MrkdwnText {
  type: 'mrkdwn'
  text: string
}

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text?: MrkdwnText; fields?: MrkdwnText[] }
  | { type: 'context'; elements: MrkdwnText[] }

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string
  blocks: SlackBlock[]
}

/** Slack reads &, < and > as control characters (links, mentions): anything from data must have them escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** truncate() for escaped text: a cut inside an entity ("&am") would show as garbage. */
function fitMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text
  return `${truncate(text, max)
    .slice(0, -1)
    .replace(/&[a-z]{0,3}$/, '')}…`
}

const header = (text: string): SlackBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(text, SLACK_LIMITS.headerText), emoji: true },
})
const mrkdwn = (text: string, max: number): MrkdwnText => ({ type: 'mrkdwn', text: fitMrkdwn(text, max) })
const section = (text: string): SlackBlock => ({
  type: 'section',
  text: mrkdwn(text, SLACK_LIMITS.sectionText),
})
const fields = (pairs: [label: string, value: string][]): SlackBlock => ({
  type: 'section',
  fields: pairs
    .slice(0, SLACK_LIMITS.fields)
    .map(([label, value]) => mrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText)),
})
const context = (...texts: string[]): SlackBlock => ({
  type: 'context',
  elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => mrkdwn(t, SLACK_LIMITS.sectionText)),
})

const code = (text: string) => `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``
const bold = (text: string) => `*${escapeMrkdwn(text)}*`
const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })
const num = (n: number) => numberFormat.format(n)
const zScore = (z: number | null) => (z === null ? 'n/a' : z.toFixed(2))
const capitalize = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`

/** Slack renders this in the reader's time zone; the ISO fallback is what clients without date support show. */
export function slackDate(ms: number): string {
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  return `${Math.floor(m / 60)}h ${m % 60}m`
}

/** `|` would end the URL part of the link and `>` the link itself. */
function linkTo(url: string, label: string): string {
  return `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(label)}>`
}

function relativeChange(value: number, mean: number): string {
  if (mean === 0) return ''
  const pct = ((value - mean) / Math.abs(mean)) * 100
  return ` (${pct >= 0 ? '+' : ''}${num(Math.round(pct))}%)`
}

/**
 * Lines into as few sections as fit (each <= the section limit), within `maxBlocks`; what does not fit is
 * counted in a closing context line, which the budget leaves room for.
 */
function listBlocks(lines: string[], maxBlocks: number, extraOmitted = 0): SlackBlock[] {
  const sections: string[] = []
  let current = ''
  let shown = 0
  for (const raw of lines) {
    const line = fitMrkdwn(raw, SLACK_LIMITS.sectionText)
    if (current !== '' && current.length + 1 + line.length <= SLACK_LIMITS.sectionText) {
      current = `${current}\n${line}`
    } else {
      if (current !== '') sections.push(current)
      if (sections.length >= maxBlocks - 1) {
        current = ''
        break
      }
      current = line
    }
    shown += 1
  }
  if (current !== '') sections.push(current)
  const blocks = sections.map(section)
  const omitted = lines.length - shown + extraOmitted
  if (omitted > 0) blocks.push(context(`…and ${num(omitted)} more`))
  return blocks
}

const SEVERITY_EMOJI = { critical: ':red_circle:', warning: ':large_yellow_circle:' } as const

function incidentMessage(alert: IncidentAlert): SlackBlock[] {
  const { incident: i, detection: d } = alert
  const window = detectionWindow(d)
  const emoji = alert.transition === 'resolved' ? ':white_check_mark:' : SEVERITY_EMOJI[i.severity]
  const where = `${code(i.metric)} for ${bold(i.customerId)}`
  const versus = `${num(d.currentValue)} vs a baseline mean of ${num(d.baselineMean)}${relativeChange(d.currentValue, d.baselineMean)}`
  const summary =
    alert.transition === 'resolved'
      ? `*Resolved*: ${where} is back to normal at ${versus}. Peak z-score was ${zScore(i.peakZScore)}${
          i.resolvedAt === null ? '' : `, open for ${duration(i.resolvedAt - i.openedAt)}`
        }.`
      : `*${capitalize(alert.transition)}*: ${i.severity} ${i.direction} on ${where}: ${versus}, ${detectionStatistic(d)}.`
  const blocks: SlackBlock[] = [
    header(`${emoji} ${alert.title}`),
    section(summary),
    fields([
      ['Customer', escapeMrkdwn(i.customerId)],
      ['Metric', code(i.metric)],
      ['Current value', num(d.currentValue)],
      ['Baseline mean', `${num(d.baselineMean)} ± ${num(d.baselineStddev)}`],
      d.signal === 'shape'
        ? [
            'Shape similarity',
            `${zScore(d.shapeSimilarity ?? null)} (threshold ${zScore(d.shapeThreshold ?? null)})`,
          ]
        : ['Z-score', `${zScore(d.zScore)} (peak ${zScore(i.peakZScore)})`],
      ['Direction', i.direction],
      ['Severity', i.severity],
      ['Status', i.status],
    ]),
    context(
      `Incident ${code(i.id)}`,
      `Slot ${slackDate(d.slot)}`,
      `Window ${slackDate(d.windowStart)} to ${slackDate(d.windowEnd)}${window ? ` (${window})` : ''}`,
      signalsLine(alert),
    ),
  ]
  if (alert.link) blocks.push(context(linkTo(alert.link, 'Open in MeterFlow')))
  return blocks
}

/** Which signal this alert reports, which opened the incident and which fire now. */
function signalsLine({ incident: i, detection: d }: IncidentAlert): string {
  const firing = i.firingSignals.length > 0 ? i.firingSignals.join(', ') : 'none'
  return `Signal ${d.signal} (opened by ${i.openedBySignal}, firing: ${firing})`
}

function stormMessage(alert: StormAlert): SlackBlock[] {
  const s = alert.storm
  const head: SlackBlock[] = [
    header(`:rotating_light: Alert storm: ${num(s.opened)} incidents opened in one run`),
    section(
      `Run ${code(s.runId)} (slot ${slackDate(s.slot)}) opened *${num(s.opened)}* incidents, more than the storm limit of ${num(s.limit)}. Their individual alerts are held.`,
    ),
  ]
  const tail = alert.link ? [context(linkTo(alert.link, 'Open in MeterFlow'))] : []
  const lines = s.sample.map(
    (x) =>
      `• ${SEVERITY_EMOJI[x.severity]} ${x.severity} ${x.direction}: ${bold(x.customerId)} · ${code(x.metric)}`,
  )
  const budget = SLACK_LIMITS.blocks - head.length - tail.length
  return [...head, ...listBlocks(lines, budget, Math.max(0, s.opened - s.sample.length)), ...tail]
}

function jobHealthMessage(alert: JobHealthAlert): SlackBlock[] {
  const j = alert.job
  const took = j.durationMs === null ? '' : ` after ${duration(j.durationMs)}`
  const blocks: SlackBlock[] =
    j.problem === 'failed'
      ? [
          header(':x: Detection run failed'),
          section(`Run ${code(j.runId)} for slot ${slackDate(j.slot)} failed${took}.`),
        ]
      : [
          header(':hourglass_flowing_sand: Detection run slow'),
          section(
            `Run ${code(j.runId)} for slot ${slackDate(j.slot)} took *${j.durationMs === null ? 'unknown' : duration(j.durationMs)}*, over the limit of ${j.limitMs === null ? 'n/a' : duration(j.limitMs)}.`,
          ),
        ]
  // The fences take 6 characters and a backtick in the error would close the block early.
  if (j.error)
    blocks.push(section(`\`\`\`${fitMrkdwn(escapeMrkdwn(j.error).replace(/`/g, "'"), 2990)}\`\`\``))
  if (alert.link) blocks.push(context(linkTo(alert.link, 'Open in MeterFlow')))
  return blocks
}

function digestMessage(alert: DigestAlert): SlackBlock[] {
  const g = alert.digest
  const head: SlackBlock[] = [
    header(':bar_chart: MeterFlow incident digest'),
    section(`Incidents from ${slackDate(g.from)} to ${slackDate(g.to)}`),
    fields([
      ['Opened', num(g.opened)],
      ['Resolved', num(g.resolved)],
      ['Still open', num(g.stillOpen)],
    ]),
  ]
  const tail = alert.link ? [context(linkTo(alert.link, 'Open in MeterFlow'))] : []
  const lines = g.incidents.map((x) => {
    const state =
      x.resolvedAt === null ? `open since ${slackDate(x.openedAt)}` : `resolved ${slackDate(x.resolvedAt)}`
    return `• ${x.status === 'open' ? SEVERITY_EMOJI[x.severity] : ':white_check_mark:'} ${x.severity} ${x.direction}: ${bold(x.customerId)} · ${code(x.metric)}, peak z ${zScore(x.peakZScore)}, ${state}`
  })
  return [...head, ...listBlocks(lines, SLACK_LIMITS.blocks - head.length - tail.length), ...tail]
}

// Titles already name the transition ("Resolved: ..."), see domain/alert-factory.ts.
function fallbackText(alert: Alert): string {
  const link = alert.link ? ` ${linkTo(alert.link, 'Open')}` : ''
  return `${fitMrkdwn(escapeMrkdwn(alert.title), SLACK_LIMITS.fallbackText - link.length)}${link}`
}

function blocksFor(alert: Alert): SlackBlock[] {
  switch (alert.kind) {
    case 'incident':
      return incidentMessage(alert)
    case 'storm':
      return stormMessage(alert)
    case 'job_health':
      return jobHealthMessage(alert)
    case 'digest':
      return digestMessage(alert)
  }
}

/** The incoming-webhook body for one alert. */
export function slackMessage(alert: Alert): SlackMessage {
  return { text: fallbackText(alert), blocks: blocksFor(alert).slice(0, SLACK_LIMITS.blocks) }
}
