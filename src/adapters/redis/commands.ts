import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'

/**
 * Every Redis command the shape index sends, built here as argv (one declared place, unit-tested word for word).
 * Why not node-redis' typed vEmb/vSimWithScores: they are sent through a pipeline (MULTI-less `execAsPipeline`)
 * as raw argv anyway, and vEmb's RESP2 reply transform maps over the reply, which is null for a missing element.
 */
export type Argv = string[]

/** A day element's attributes (VADD SETATTR): what VSIM's FILTER selects baseline days by. */
export interface DayAttributes {
  /** 0 = Sunday .. 6 = Saturday (UTC). */
  weekday: number
  /** `YYYY-MM-DD`, the element's name (for people reading the set). */
  date: string
  /** Days since the epoch: FILTER compares numbers, so the week range is expressed on it. */
  day: number
  /** The day's exact total (float64): FILTER keeps the days the shape signal keeps (positive, >= min volume). */
  total: number
}

const values = (vector: readonly number[]): string[] => {
  if (vector.length !== PROFILE_HOURS) throw new RangeError(`a day vector has ${PROFILE_HOURS} values`)
  return ['VALUES', String(PROFILE_HOURS), ...vector.map((v) => String(v))]
}

/** Adds or replaces a day: exact float32 vectors (NOQUANT), no REDUCE, attributes in the same command. */
export const vadd = (
  key: string,
  vector: readonly number[],
  element: string,
  attributes: DayAttributes,
): Argv => ['VADD', key, ...values(vector), element, 'NOQUANT', 'SETATTR', JSON.stringify(attributes)]

export const vemb = (key: string, element: string): Argv => ['VEMB', key, element]

export const vrem = (key: string, element: string): Argv => ['VREM', key, element]

/** Drops the whole set once no run wrote it for `seconds` (a customer who stopped: nothing stays forever). */
export const expire = (key: string, seconds: number): Argv => ['EXPIRE', key, String(seconds)]

/**
 * The usable baseline days of a whole-day window, by similarity to `vector`: same weekday, the `weeks` weeks
 * before `day` (the current day excluded), positive total of at least `minDailyVolume`. TRUTH scans every element
 * linearly (the set holds a few dozen days), so the answer is exact rather than HNSW's approximate one.
 */
export function vsimBaseline(
  key: string,
  vector: readonly number[],
  day: number,
  weekday: number,
  weeks: number,
  minDailyVolume: number,
): Argv {
  const filter =
    `.weekday == ${weekday} and .day >= ${day - 7 * weeks} and .day <= ${day - 7} ` +
    `and .total > 0 and .total >= ${String(minDailyVolume)}`
  return ['VSIM', key, ...values(vector), 'COUNT', String(weeks), 'FILTER', filter, 'TRUTH', 'WITHSCORES']
}

/** Whether the server has Vector Sets: COMMAND INFO answers [null] for an unknown command. */
export const commandInfoVadd = (): Argv => ['COMMAND', 'INFO', 'VADD']
