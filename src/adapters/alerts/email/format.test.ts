import { describe, expect, it } from 'vitest'
import {
  digestAlert,
  incidentAlert,
  jobHealthAlert,
  SLOT,
  stormAlert,
} from '../../../../test/alert-fixtures.js'
import { EMAIL_TABLE_MAX, emailMessage, escapeHtml, messageId } from './format.js'

describe('emailMessage', () => {
  it('writes an incident alert as subject, plain text and HTML', () => {
    const mail = emailMessage(incidentAlert())
    expect(mail.subject).toBe('[MeterFlow] Critical anomaly: acme-corp - api_calls')
    expect(mail.text).toMatch(/^Customer: +acme-corp$/m)
    expect(mail.text).toMatch(/^Current value: +125,000$/m)
    expect(mail.text).toMatch(/^Baseline mean: +10,000.5$/m)
    expect(mail.text).toMatch(/^Z-score: +12.5$/m)
    expect(mail.text).toMatch(/^Detected at: +2024-05-01T10:00:00.000Z$/m)
    expect(mail.text).not.toContain('Resolved at')
    expect(mail.text).toContain('Open in MeterFlow: https://meterflow.example.com/incidents/inc-1')
    expect(mail.html).toContain(
      '<a href="https://meterflow.example.com/incidents/inc-1">Open in MeterFlow</a>',
    )
    expect(mail.html).toContain(
      '<td style="padding:2px 8px;text-align:left;border-bottom:1px solid #ddd">acme-corp</td>',
    )
  })

  it('names the volume window that fired beside its times, and none for an alert raised before windows were recorded', () => {
    const alert = incidentAlert()
    const recent = {
      ...alert,
      detection: { ...alert.detection, windowStart: SLOT - 3_600_000, windowKind: 'recent' as const },
    }
    expect(emailMessage(recent).text).toMatch(
      /^Window: +2024-05-01T09:00:00.000Z to 2024-05-01T10:00:00.000Z \(recent window\)$/m,
    )
    expect(emailMessage(alert).text).toMatch(
      /^Window: +2024-04-30T10:00:00.000Z to 2024-05-01T10:00:00.000Z$/m,
    )
  })

  it('escapes HTML from every value it shows', () => {
    const alert = incidentAlert({ title: 'Critical anomaly: <script>alert(1)</script>' })
    const evil = { ...alert, incident: { ...alert.incident, customerId: '"><img src=x onerror=alert(1)>' } }
    const { html, text } = emailMessage(evil)
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;')
    expect(text).toContain('"><img src=x onerror=alert(1)>')
  })

  it('never makes a non-web link clickable', () => {
    const { html } = emailMessage(incidentAlert({ link: 'javascript:alert(1)' }))
    expect(html).not.toContain('href=')
    expect(html).toContain('<p>javascript:alert(1)</p>')
  })

  it('formats the digest as counts and a table of incidents', () => {
    const mail = emailMessage(digestAlert(3))
    expect(mail.subject).toBe('[MeterFlow] Daily digest 2024-05-02: 3 opened, 1 resolved, 2 still open')
    expect(mail.text).toContain('Incident digest, 2024-05-01T08:00:00.000Z to 2024-05-02T08:00:00.000Z')
    expect(mail.text).toMatch(/Opened: +3\nResolved: +1\nStill open: +2/)
    expect(mail.text).toContain(
      '  resolved | critical | <b>evil & co</b> | storage_bytes | spike | 2024-05-01T09:00:00.000Z | 2024-05-01T12:00:00.000Z | 7.25',
    )
    expect(mail.text).toContain(
      '  open | critical | customer-2 | storage_bytes | spike | 2024-05-01T09:02:00.000Z | - | 7.25',
    )
    expect(mail.html.match(/<td[^>]*>storage_bytes<\/td>/g)?.length).toBe(3)
    expect(mail.html).toContain('&lt;b&gt;evil &amp; co&lt;/b&gt;')
  })

  it('cuts a long digest table and says how many rows it left out', () => {
    const mail = emailMessage(digestAlert(EMAIL_TABLE_MAX + 25))
    expect(mail.text).toContain('... and 25 more')
    expect(mail.html).toContain('<p>... and 25 more</p>')
  })

  it('shows an empty digest as such', () => {
    const empty = digestAlert(0)
    expect(emailMessage(empty).text).toContain('  (none)')
  })

  it('writes storm and job-health alerts', () => {
    const storm = emailMessage(stormAlert(2))
    expect(storm.text).toMatch(/^Incidents opened: +120$/m)
    expect(storm.text).toContain('  customer-1 | api_calls | warning | drop | inc-1')
    const job = emailMessage(jobHealthAlert({ error: 'boom <at> line 1' }))
    expect(job.text).toMatch(/^Error: +boom <at> line 1$/m)
    expect(job.html).toContain('boom &lt;at&gt; line 1')
  })
})

describe('messageId', () => {
  it('is the same for the same delivery and differs between deliveries', () => {
    expect(messageId('alert-1:email', 'meterflow@example.com')).toBe('<alert-1%3Aemail@example.com>')
    expect(messageId('alert-1:email', 'meterflow@example.com')).toBe(
      messageId('alert-1:email', 'meterflow@example.com'),
    )
    expect(messageId('alert-1-email', 'meterflow@example.com')).not.toBe(
      messageId('alert-1:email', 'meterflow@example.com'),
    )
  })

  it('encodes characters a Message-ID cannot hold', () => {
    expect(messageId('a b<>@é.', 'x@localhost')).toBe('<a%20b%3C%3E%40%C3%A9%2E@localhost>')
  })
})

describe('escapeHtml', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  })
})
