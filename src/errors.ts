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

export class NotFoundError extends MeterFlowError {
  readonly code = 'not_found'
  readonly httpStatus = 404
}

/** A backing store failed; the operation did not take effect and may be retried. */
export class StoreError extends MeterFlowError {
  readonly code = 'store_unavailable'
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
