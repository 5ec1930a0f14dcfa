/** One problem with one input field; `index` is set for items of a batch. */
export interface FieldIssue {
  field: string
  reason: string
  index?: number
}

/** Base of every error MeterFlow raises on purpose; `code` is the stable machine-readable name. */
export abstract class MeterFlowError extends Error {
  abstract readonly code: string
  abstract readonly httpStatus: number
  readonly details: FieldIssue[]

  constructor(message: string, details: FieldIssue[] = [], options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.details = details
  }
}

export class ValidationError extends MeterFlowError {
  readonly code = 'validation_failed'
  readonly httpStatus = 400
}

export class ConflictError extends MeterFlowError {
  readonly code = 'conflict'
  readonly httpStatus = 409
}

/** An Idempotency-Key was sent again with a different request (IETF httpapi idempotency-key draft: 422). */
export class IdempotencyKeyReusedError extends MeterFlowError {
  readonly code = 'idempotency_key_reused'
  readonly httpStatus = 422
}

export class NotFoundError extends MeterFlowError {
  readonly code = 'not_found'
  readonly httpStatus = 404
}

/**
 * A backing store failed. Retry the operation: every write is idempotent on retry (for ingest, with event ids or an
 * Idempotency-Key), because a write that failed part-way may still be completed (see the README, Ingest semantics).
 */
export class StoreError extends MeterFlowError {
  readonly code = 'store_unavailable'
  readonly httpStatus = 503
}

/** A run stopped because its time ran out (the Lambda's remaining time); a retry of the slot completes it. */
export class OutOfTimeError extends MeterFlowError {
  readonly code = 'out_of_time'
  readonly httpStatus = 503
}

/** The embedded data directory is held by another process (chDB allows one per directory). */
export class DataDirLockedError extends MeterFlowError {
  readonly code = 'data_dir_locked'
  readonly httpStatus = 503
}

export class PayloadTooLargeError extends MeterFlowError {
  readonly code = 'payload_too_large'
  readonly httpStatus = 413
}

/** No credential, or one that names no live key (RFC 6750: answered with `WWW-Authenticate: Bearer`). */
export class UnauthorizedError extends MeterFlowError {
  readonly code = 'unauthorized'
  readonly httpStatus = 401
}

/** The caller is known but may not do this (a key without the route's scope, a cross-site request). */
export class ForbiddenError extends MeterFlowError {
  constructor(
    readonly code: 'forbidden' | 'insufficient_scope' | 'cross_site_request',
    message: string,
    details: FieldIssue[] = [],
  ) {
    super(message, details)
  }
  readonly httpStatus = 403
}

/** Too many requests for one key (or address) in the rate-limit window; Retry-After says when to come back. */
/** Too much work is already waiting (a bounded queue is full): nothing was done; retry after the given delay. */
export class BusyError extends MeterFlowError {
  readonly code = 'busy'
  readonly httpStatus = 503
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, [])
  }
}

export class RateLimitedError extends MeterFlowError {
  readonly code = 'rate_limited'
  readonly httpStatus = 429
}

/** A part of the service that was never built or installed (the dashboard without `npm run build`). */
export class UnavailableError extends MeterFlowError {
  readonly code = 'unavailable'
  readonly httpStatus = 503
}
