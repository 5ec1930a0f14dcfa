import { z } from 'zod'
import { DAY_MS, HOUR_MS } from './domain/time.js'
import { parseSchedule } from './schedule/expression.js'

export const boolFlag = z.union([
  z.boolean(),
  z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true'),
])

const severity = z.enum(['warning', 'critical'])
const transition = z.enum(['opened', 'escalated', 'resolved'])

/** Which alerts a channel receives; unset fields keep the channel's default route. */
export const routeSchema = z.object({
  /** Incident alerts of these severities (the incident's current severity). */
  severities: z.array(severity).optional(),
  /** Incident alerts for these transitions. */
  transitions: z.array(transition).optional(),
  /** Ops alerts: storm summaries and job health. */
  ops: z.boolean().optional(),
  /** The periodic digest. */
  digest: z.boolean().optional(),
})

export const scheduleExpression = z
  .string()
  .min(1)
  .superRefine((expression, ctx) => {
    try {
      parseSchedule(expression)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message })
    }
  })

const emailList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : v,
  z.array(z.email()).min(1),
)

const WHSEC = 'whsec_'
const KEY_BYTES = { min: 24, max: 64 }

/** The HMAC key behind a METERFLOW_WEBHOOK_SECRET, or why there is none (never quoting the secret). */
function webhookKey(secret: string): Buffer | string {
  const { min, max } = KEY_BYTES
  if (secret.startsWith(WHSEC)) {
    const encoded = secret.slice(WHSEC.length)
    const key = Buffer.from(encoded, 'base64')
    // Buffer.from skips bad characters silently: only canonical base64 (what receivers' libraries decode alike).
    if (key.toString('base64') !== encoded)
      return `${WHSEC} must be followed by standard base64 (A-Z a-z 0-9 + /, = padding)`
    if (key.length < min || key.length > max)
      return `${WHSEC} must decode to ${min}-${max} bytes, got ${key.length}`
    return key
  }
  if (!/^[\x21-\x7e]*$/.test(secret))
    return `a plain secret must be printable ASCII without spaces (or use ${WHSEC}<base64>)`
  if (secret.length < min || secret.length > max)
    return `must be ${min}-${max} characters, got ${secret.length} (or ${WHSEC}<base64>)`
  return Buffer.from(secret, 'ascii')
}

/**
 * The webhook signing secret: the Standard Webhooks form `whsec_<base64 of 24-64 bytes>` (the spec's key size),
 * or a plain secret of 24-64 printable ASCII characters whose bytes are the key. Either becomes the `whsec_` form,
 * the one string receivers pass to their Standard Webhooks library: a plain secret S is `whsec_` + base64(S).
 */
export const webhookSecret = z.string().transform((secret, ctx) => {
  const key = webhookKey(secret)
  if (typeof key === 'string') {
    ctx.addIssue({ code: 'custom', message: key })
    return z.NEVER
  }
  return `${WHSEC}${key.toString('base64')}`
})

/**
 * The URL an HTTP channel (Slack, PagerDuty, the webhook) posts to: http or https, without a user name or
 * password. fetch refuses URLs with credentials, so every delivery would fail, and its error would quote the URL.
 * Issues name the part that is wrong, never the URL (a Slack webhook URL is itself a secret).
 */
export const httpChannelUrl = z.string().superRefine((value, ctx) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http or https URL' })
    return
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({
      code: 'custom',
      message: `must be an http or https URL, not ${url.protocol.slice(0, 20)}`,
    })
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({
      code: 'custom',
      message:
        'must not contain a user name or password (user:password@host): deliveries cannot send them; authenticate with a secret path, or for the webhook with METERFLOW_WEBHOOK_SECRET',
    })
  }
})

export const alertsConfigSchema = z.object({
  /** The dashboard's public base URL: alerts link to it when set. */
  publicUrl: z.url().optional(),
  /** A run opening more incidents than this holds their alerts and sends one summary to ops (the seed's 50/hour). */
  stormLimit: z.coerce.number().int().min(1).max(1_000_000).default(50),
  /** Delivery attempts before an alert is dead-lettered (status failed). */
  maxAttempts: z.coerce.number().int().min(1).max(100).default(8),
  /**
   * First retry delay; doubles per attempt up to retryMaxMs. Durations stay within a day: past 2^31 - 1 ms a Node
   * timer fires at once.
   */
  retryBaseMs: z.coerce.number().int().min(0).max(DAY_MS).default(30_000),
  retryMaxMs: z.coerce.number().int().min(0).max(DAY_MS).default(3_600_000),
  /** How often the server delivers due alerts (retries; fresh alerts go out right after their run). */
  deliveryIntervalMs: z.coerce.number().int().min(100).max(HOUR_MS).default(15_000),
  /** Per-request timeout for a channel. */
  timeoutMs: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** A run longer than this alerts ops (the seed's CloudWatch duration alarm). */
  jobSlowMs: z.coerce.number().int().min(1).max(DAY_MS).default(600_000),
  /** When the ops digest is sent (EventBridge expression, UTC). */
  digestSchedule: scheduleExpression.default('cron(0 8 * * ? *)'),
  /** Per-channel overrides of the default routes (src/adapters/alerts/registry.ts). */
  routes: z.record(z.string(), routeSchema).default({}),
  /** One line per alert on stdout (the embedded default). */
  console: z.object({ enabled: boolFlag.default(true) }).prefault({}),
  slack: z.object({ webhookUrl: httpChannelUrl.optional() }).prefault({}),
  pagerduty: z
    .object({
      routingKey: z.string().min(1).optional(),
      url: httpChannelUrl.default('https://events.pagerduty.com/v2/enqueue'),
    })
    .prefault({}),
  webhook: z
    .object({
      url: httpChannelUrl.optional(),
      /** The Standard Webhooks signing secret, normalised to `whsec_<base64>` (webhookSecret). */
      secret: webhookSecret.optional(),
    })
    .prefault({}),
  email: z
    .object({
      /** smtp://user:pass@host:port or smtps://... */
      smtpUrl: z.url().optional(),
      from: z.email().default('meterflow@localhost'),
      to: emailList.optional(),
    })
    .prefault({}),
  sns: z
    .object({
      topicArn: z.string().startsWith('arn:').optional(),
      /** Default: the anomaly store's region and endpoint. */
      region: z.string().min(1).optional(),
      endpoint: z.url().optional(),
    })
    .prefault({}),
})

export type AlertsConfig = z.infer<typeof alertsConfigSchema>
export type RouteOverride = z.infer<typeof routeSchema>

/** Environment variable -> path under `alerts`. */
export const ALERT_ENV_VARIABLES: Record<string, string> = {
  METERFLOW_PUBLIC_URL: 'alerts.publicUrl',
  METERFLOW_ALERT_CONSOLE: 'alerts.console.enabled',
  METERFLOW_STORM_LIMIT: 'alerts.stormLimit',
  METERFLOW_ALERT_MAX_ATTEMPTS: 'alerts.maxAttempts',
  METERFLOW_JOB_SLOW_MS: 'alerts.jobSlowMs',
  METERFLOW_DIGEST_SCHEDULE: 'alerts.digestSchedule',
  METERFLOW_SLACK_WEBHOOK_URL: 'alerts.slack.webhookUrl',
  METERFLOW_PAGERDUTY_ROUTING_KEY: 'alerts.pagerduty.routingKey',
  METERFLOW_PAGERDUTY_URL: 'alerts.pagerduty.url',
  METERFLOW_WEBHOOK_URL: 'alerts.webhook.url',
  METERFLOW_WEBHOOK_SECRET: 'alerts.webhook.secret',
  METERFLOW_SMTP_URL: 'alerts.email.smtpUrl',
  METERFLOW_ALERT_EMAIL_FROM: 'alerts.email.from',
  METERFLOW_ALERT_EMAIL_TO: 'alerts.email.to',
  // The seed Lambda's variable name; METERFLOW_SNS_TOPIC_ARN (read after it) wins when both are set.
  ALERT_TOPIC_ARN: 'alerts.sns.topicArn',
  METERFLOW_SNS_TOPIC_ARN: 'alerts.sns.topicArn',
}
