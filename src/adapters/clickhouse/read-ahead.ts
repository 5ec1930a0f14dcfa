import type { CustomerRange } from '../../domain/shard.js'

/**
 * Yields `read(range)` for each customer range cut at `bounds` (the last open to `to`), one read ahead: the next
 * range's query runs in the engine (its own threads) while the caller works on this one (JS), so memory holds two
 * results at most. A read the caller never takes (it stopped early) must not surface as an unhandled rejection: its
 * failure is seen only by whoever awaits it.
 */
export async function* readAhead<T>(
  bounds: readonly string[],
  to: string,
  read: (range: CustomerRange) => Promise<T>,
): AsyncGenerator<T> {
  const start = (i: number): Promise<T> | null => {
    if (i >= bounds.length) return null
    const reading = read({ from: bounds[i] as string, to: bounds[i + 1] ?? to })
    reading.catch(() => undefined)
    return reading
  }
  let next = start(0)
  for (let i = 0; next; i++) {
    const result = await next
    next = start(i + 1)
    yield result
  }
}
