import type { DeliveryResult } from '../../../ports.js'

/**
 * Error names that say "later" even though SNS files some of them as client faults: throttling, SNS's own
 * failures, expired credentials the SDK refreshes, and the SDK's timeouts and credential-provider hiccups
 * (instance metadata can be slow).
 */
const RETRYABLE_NAMES = new Set([
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'KMSThrottlingException',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'TimeoutError',
  'AbortError',
  'CredentialsProviderError',
])

const HINTS: Record<string, string> = {
  NotFoundException: ' (does the topic exist in this region? check METERFLOW_SNS_TOPIC_ARN)',
  AuthorizationErrorException: ' (do the credentials allow sns:Publish on the topic?)',
}

interface SdkErrorShape {
  name?: string
  message?: string
  code?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  errors?: unknown[]
}

/** Name, code and message, with the causes of an AggregateError (Node's connect to every address of a host). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const e = err as SdkErrorShape
  const code = e.code !== undefined && e.code !== e.name ? ` ${e.code}` : ''
  const inner = Array.isArray(e.errors)
    ? e.errors.map((x) => (x instanceof Error ? x.message : String(x)))
    : []
  const message = [err.message, ...inner].filter((m) => m !== '').join('; ')
  return `${err.name}${code}: ${message || '(no message)'}`
}

/**
 * Maps whatever PublishCommand threw to a delivery result: throttling, 5xx, timeouts and network errors (no HTTP
 * status at all) are worth retrying; any other client fault (NotFound, InvalidParameter, AuthorizationError,
 * KMS configuration errors) is permanent.
 */
export function classifySnsError(err: unknown, topicArn: string): DeliveryResult {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape
  const name = e.name ?? ''
  const status = e.$metadata?.httpStatusCode
  const error = `SNS Publish to ${topicArn} failed: ${describe(err)}${status === undefined ? '' : ` (HTTP ${status})`}${HINTS[name] ?? ''}`
  if (RETRYABLE_NAMES.has(name) || status === 429 || (status !== undefined && status >= 500)) {
    return { status: 'retry', error }
  }
  if (e.$fault === 'server') return { status: 'retry', error }
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return { status: 'rejected', error }
  return { status: 'retry', error }
}
