import type { FastifyInstance } from 'fastify'
import type { NumberRange } from '../domain/limits.js'
import { parseTimestamp } from '../domain/time.js'
import { type FieldIssue, ValidationError } from '../errors.js'

/** A time query or body parameter (ISO 8601 or epoch ms); absent stays undefined, bad is a 400 naming the field. */
export function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = parseTimestamp(value)
  if (!parsed.ok)
    throw new ValidationError(`invalid ${field}: ${parsed.reason}`, [{ field, reason: parsed.reason }])
  return parsed.ms
}

/** The JSON schema of a time parameter: ISO 8601 or epoch ms, checked by parseTime (long strings end early). */
export function timeParam(description: string) {
  return { type: 'string', minLength: 1, maxLength: 64, description } as const
}

/** The JSON schema of a number parameter in `range` (a documented bound; finiteness is checked after it). */
export function numberParam(range: NumberRange, extra: Record<string, unknown> = {}) {
  return {
    type: range.integer ? 'integer' : 'number',
    ...(range.exclusiveMin ? { exclusiveMinimum: range.min } : { minimum: range.min }),
    maximum: range.max,
    ...extra,
  }
}

/**
 * Ajv coerces a string such as '1e309' (in a query, or in a JSON body) to Infinity and skips minimum/maximum for
 * non-finite numbers, so after validation any non-finite number left in the query, the path or an object body is a
 * 400 naming its field. A batch body (an array) is checked item by item by its use case.
 */
export function installFiniteNumberCheck(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const body = request.body
    const issues = [
      ...nonFiniteNumbers(request.query),
      ...nonFiniteNumbers(request.params),
      ...(typeof body === 'object' && body !== null && !Array.isArray(body) ? nonFiniteNumbers(body) : []),
    ]
    if (issues.length > 0) {
      const summary = issues.map((i) => i.field).join(', ')
      throw new ValidationError(`invalid request: ${summary} must be finite`, issues)
    }
  })
}

const MAX_ISSUES = 20

/** Non-finite numbers under `value`, by dotted path; iterative, so no nesting depth can overflow the stack. */
function nonFiniteNumbers(value: unknown): FieldIssue[] {
  const issues: FieldIssue[] = []
  const pending: [path: string, value: unknown][] = [['', value]]
  for (let next = pending.pop(); next !== undefined && issues.length < MAX_ISSUES; next = pending.pop()) {
    const [path, node] = next
    if (typeof node === 'number' && !Number.isFinite(node)) {
      issues.push({ field: path || 'request', reason: 'must be a finite number' })
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) pending.push([path ? `${path}.${key}` : key, child])
    }
  }
  return issues
}
