import type { CheckStatus, Direction, Severity } from '../volume.js'
import type { SettingsTable } from './settings.js'

/**
 * A figure a signal adds to the records it produces, beside the common ones (customer, metric, detected_at,
 * current_value, severity, direction, window, ...). `name` is its API and storage name (snake_case): the
 * DynamoDB attribute, the key in SQLite's `signal_fields` object and the field of the anomaly JSON.
 */
export type SignalField = NumberSignalField | ChoiceSignalField

export interface NumberSignalField {
  readonly name: string
  /** integer: stored and checked as a whole number; real: any finite number. */
  readonly type: 'integer' | 'real'
  readonly description: string
}

/**
 * A word out of `choices` (volume: which window judged the series). Records stored before a signal declared the
 * field lack it, so its value is one of `choices` or null: null means "not recorded", never a choice of its own.
 */
export interface ChoiceSignalField {
  readonly name: string
  readonly type: 'choice'
  readonly choices: readonly string[]
  readonly description: string
}

/** A field's value: a number, or for a choice field one of its choices or null. */
export type SignalFieldValue<F extends SignalField> = F extends {
  type: 'choice'
  choices: readonly (infer C)[]
}
  ? C | null
  : number

/** Why `value` is not a value of the field (as the API names the reason), or null when it is one. */
export function signalFieldProblem(field: SignalField, value: unknown): string | null {
  switch (field.type) {
    case 'integer':
      return Number.isSafeInteger(value) ? null : `must be an integer, got ${String(value)}`
    case 'real':
      return typeof value === 'number' && Number.isFinite(value)
        ? null
        : `must be a finite number, got ${String(value)}`
    case 'choice':
      return value === null || (typeof value === 'string' && field.choices.includes(value))
        ? null
        : `must be one of ${field.choices.join(', ')} or null, got ${String(value)}`
  }
}

/**
 * What a detection signal declares once, so that everything outside the domain derives from it: the stores'
 * mappings and checks, the API's schema and serializers, the alert's statistic. A signal module (volume-signal.ts)
 * exports one of these plus its evaluation; signal-registry.ts lists them.
 */
export interface SignalDeclaration {
  /** The record's `kind`: stable, stored, part of every record's identity. */
  readonly kind: string
  readonly description: string
  /** The signal's own record fields, by domain (camelCase) name. */
  readonly fields: Readonly<Record<string, SignalField>>
  /** The field that sums up how far off the series is (volume: zScore), shown by alerts. */
  readonly statistic: string
  /** Its settings (settings.ts): config file, API and stores derive theirs from this table. */
  readonly settings: SettingsTable
}

/** The signal's fields as values: `{ zScore: number, ..., windowKind: WindowKind | null }` for volume. */
export type SignalFieldValues<D extends SignalDeclaration> = {
  -readonly [F in keyof D['fields']]: SignalFieldValue<D['fields'][F]>
}

/** What one signal said about one series in one run, in the terms incidents and alerts share. */
export interface SignalVerdict<K extends string = string> {
  kind: K
  status: CheckStatus
  isAnomaly: boolean
  severity: Severity | null
  direction: Direction | null
  currentValue: number
  /** The value of the signal's statistic field; null when there is no verdict (too little data). */
  statistic: number | null
}
