import { SHAPE_SIGNAL } from './shape-signal.js'
import type { SignalDeclaration } from './signal.js'
import { VOLUME_SIGNAL } from './volume-signal.js'

/**
 * Every detection signal, registered once: record kinds, the stores' field mappings, the API's schema and
 * serializers and the alerts' statistic all derive from this list. A new signal is its module plus one entry here.
 * Order matters where signals are combined: the first firing one names an incident's opener.
 */
export const SIGNALS = [VOLUME_SIGNAL, SHAPE_SIGNAL] as const

export type Signal = (typeof SIGNALS)[number]
export type SignalKind = Signal['kind']
export type SignalOf<K extends SignalKind> = Extract<Signal, { kind: K }>

export const SIGNAL_KINDS: readonly SignalKind[] = SIGNALS.map((s) => s.kind)

export const VOLUME_KIND = VOLUME_SIGNAL.kind
export const SHAPE_KIND = SHAPE_SIGNAL.kind

/** The signal of records, incidents and alerts stored without one: they were written when volume was the only one. */
export const LEGACY_SIGNAL_KIND: SignalKind = VOLUME_KIND

export function isSignalKind(value: unknown): value is SignalKind {
  return typeof value === 'string' && (SIGNAL_KINDS as readonly string[]).includes(value)
}

export function signalOf(kind: SignalKind): SignalDeclaration {
  const signal = SIGNALS.find((s) => s.kind === kind)
  if (!signal) throw new Error(`unregistered signal kind '${kind}'`)
  return signal
}

/** A signal's fields as [domain name, declaration] pairs, in declaration order. */
export function signalFields(kind: SignalKind): [string, SignalDeclaration['fields'][string]][] {
  return Object.entries(signalOf(kind).fields)
}

/** Every field any signal declares, by API name (the API's anomaly schema lists them all). */
export function allSignalFields(): SignalDeclaration['fields'][string][] {
  const byName = new Map<string, SignalDeclaration['fields'][string]>()
  for (const signal of SIGNALS as readonly SignalDeclaration[]) {
    for (const field of Object.values(signal.fields)) byName.set(field.name, field)
  }
  return [...byName.values()]
}
