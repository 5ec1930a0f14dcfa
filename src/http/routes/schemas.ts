import { DETECTOR_SETTINGS } from '../../domain/detector-settings.js'
import { BOUNDS } from '../../domain/limits.js'
import type { SettingDeclaration, SettingsTable } from '../../domain/signals/settings.js'
import type { SignalField } from '../../domain/signals/signal.js'
import { allSignalFields, SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import { numberParam } from '../params.js'

/** An ISO 8601 time in a response schema. */
export const time = { type: 'string', format: 'date-time' } as const
export const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const

/** A signal field in a response: a number, or a choice field's word (null on records stored before it existed). */
function signalFieldSchema(f: SignalField) {
  if (f.type === 'choice')
    return { type: ['string', 'null'], enum: [...f.choices, null], description: f.description }
  return { type: f.type === 'integer' ? 'integer' : 'number', description: f.description }
}

/** Every registered signal's fields are listed (a record has its own kind's): derived from their declarations. */
const signalFieldProperties = Object.fromEntries(allSignalFields().map((f) => [f.name, signalFieldSchema(f)]))

export const signalKindSchema = {
  type: 'string',
  enum: SIGNAL_KINDS,
  description: 'The detection signal',
} as const

export const anomalySchema = {
  type: 'object',
  properties: {
    customer_id: { type: 'string' },
    metric: { type: 'string' },
    detected_at: time,
    kind: { ...signalKindSchema, description: 'The signal that found it; its own fields are present' },
    current_value: { type: 'number' },
    ...signalFieldProperties,
    severity: { type: 'string', enum: ['warning', 'critical'] },
    direction: { type: 'string', enum: ['spike', 'drop'] },
    window: { type: 'object', properties: { start: time, end: time } },
    incident_id: { type: ['string', 'null'] },
    run_id: { type: 'string' },
    expires_at: time,
  },
} as const

export const incidentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    customer_id: { type: 'string' },
    metric: { type: 'string' },
    status: { type: 'string', enum: ['open', 'resolved'] },
    severity: { type: 'string', enum: ['warning', 'critical'] },
    direction: { type: 'string', enum: ['spike', 'drop'] },
    opened_at: time,
    last_seen_at: time,
    resolved_at: nullableTime,
    peak_z_score: { type: 'number' },
    last_z_score: { type: 'number' },
    opened_by_signal: { ...signalKindSchema, description: 'The signal whose anomaly opened the incident' },
    firing_signals: {
      type: 'array',
      items: signalKindSchema,
      description: 'The signals anomalous at the latest run with a verdict (empty after a clean run)',
    },
    detections: { type: 'integer' },
    clean_runs: { type: 'integer' },
    last_evaluated_slot: time,
    acknowledged_at: nullableTime,
    acknowledged_by: { type: ['string', 'null'] },
    feedback: {
      type: ['object', 'null'],
      properties: {
        label: { type: 'string', enum: ['false_positive', 'planned'] },
        at: time,
        by: { type: ['string', 'null'] },
        note: { type: ['string', 'null'] },
      },
    },
  },
} as const

export const runSchema = {
  type: 'object',
  properties: {
    run_id: { type: 'string' },
    slot: time,
    status: { type: 'string', enum: ['running', 'completed', 'failed'] },
    checked: { type: 'integer', description: 'customer x metric series evaluated' },
    anomalies_found: { type: 'integer' },
    timestamp: time,
    duration_ms: { type: ['integer', 'null'] },
    finished_at: nullableTime,
    customers: { type: 'integer' },
    anomalies_stored: { type: 'integer', description: 'of anomalies_found, those stored for the first time' },
    insufficient_data: { type: 'integer' },
    incidents_opened: { type: 'integer' },
    incidents_escalated: { type: 'integer' },
    incidents_resolved: { type: 'integer' },
    trigger: { type: 'string' },
    error: { type: ['string', 'null'] },
  },
} as const

function settingSchema(setting: SettingDeclaration) {
  const { description } = setting
  switch (setting.kind) {
    case 'choice':
      return { type: 'string', enum: setting.choices, description }
    case 'list': {
      const items = { type: 'string', enum: setting.choices }
      return {
        type: 'array',
        items,
        minItems: 1,
        maxItems: setting.choices.length,
        uniqueItems: true,
        description,
      }
    }
    case 'number':
      return numberParam(setting.range, { description })
  }
}

/** Overrides of a signal's settings, one property per declared setting; absent fields keep the current value. */
export function settingsOverrideSchema(table: SettingsTable) {
  return {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: Object.fromEntries(Object.values(table).map((s) => [s.name, settingSchema(s)])),
  }
}

/** A customer's detector overrides (the volume signal's settings, see docs/detection.md). */
export const detectorOverrideSchema = settingsOverrideSchema(DETECTOR_SETTINGS)

export const customerSchema = {
  type: 'object',
  properties: {
    customer_id: { type: 'string' },
    status: { type: 'string', enum: ['active', 'disabled'] },
    threshold: { type: ['number', 'null'] },
    critical_threshold: { type: ['number', 'null'] },
    metrics: { type: ['array', 'null'], items: { type: 'string' } },
    detector: detectorOverrideSchema,
    registered: { type: 'boolean', description: 'false: no entry, the defaults apply' },
    updated_at: nullableTime,
  },
} as const

export function pageSchema(item: object) {
  return {
    type: 'object',
    properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
  } as const
}

export function pageQuery(extra: Record<string, object>) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...extra,
      limit: numberParam(BOUNDS.pageSize, { default: 100 }),
      cursor: { type: 'string', maxLength: 2000 },
    },
  } as const
}
