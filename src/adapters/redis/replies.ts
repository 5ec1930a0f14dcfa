/**
 * Reply parsing for the shape index's commands, in both protocol versions node-redis speaks: RESP2 sends doubles as
 * bulk strings and VSIM WITHSCORES as a flat [element, score, ...] array; RESP3 sends doubles as numbers and
 * WITHSCORES as a map (an object, or a Map with a type mapping). A missing key or element is null.
 */

export class RedisReplyError extends Error {
  constructor(
    readonly command: string,
    readonly reply: unknown,
  ) {
    super(
      `unexpected ${command} reply: ${JSON.stringify(reply, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    )
    this.name = 'RedisReplyError'
  }
}

function toNumber(command: string, value: unknown, reply: unknown): number {
  const text = typeof value === 'number' ? value : Buffer.isBuffer(value) ? value.toString() : value
  const n = typeof text === 'string' && text.trim() !== '' ? Number(text) : text
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new RedisReplyError(command, reply)
  return n
}

const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString() : null

/** VEMB: the element's vector, or null when the key or the element does not exist. */
export function parseVemb(reply: unknown): number[] | null {
  if (reply === null || reply === undefined) return null
  if (!Array.isArray(reply)) throw new RedisReplyError('VEMB', reply)
  return reply.map((v) => toNumber('VEMB', v, reply))
}

/** VSIM ... WITHSCORES: element -> score (Redis' score, (1 + cos) / 2), in the reply's order. */
export function parseVsimScores(reply: unknown): Map<string, number> {
  const out = new Map<string, number>()
  if (reply === null || reply === undefined) return out
  if (Array.isArray(reply)) {
    if (reply.length % 2 !== 0) throw new RedisReplyError('VSIM', reply)
    for (let i = 0; i < reply.length; i += 2) {
      const element = text(reply[i])
      if (element === null) throw new RedisReplyError('VSIM', reply)
      out.set(element, toNumber('VSIM', reply[i + 1], reply))
    }
    return out
  }
  const entries =
    reply instanceof Map ? [...reply.entries()] : typeof reply === 'object' ? Object.entries(reply) : null
  if (entries === null) throw new RedisReplyError('VSIM', reply)
  for (const [k, v] of entries) {
    const element = text(k)
    if (element === null) throw new RedisReplyError('VSIM', reply)
    out.set(element, toNumber('VSIM', v, reply))
  }
  return out
}

/**
 * VSIM's score as a cosine: Redis returns (1 + cos) / 2 (a similarity in [0, 1] over cosines in [-1, 1]), so 0.9
 * against the shape threshold means the same on both indexes only after this. Clamped against float32 rounding.
 */
export function vsimScoreToCosine(score: number): number {
  if (!Number.isFinite(score)) throw new RangeError(`VSIM score ${score} is not finite`)
  return Math.min(1, Math.max(-1, 2 * score - 1))
}

/** COMMAND INFO VADD: true when the server knows VADD (a non-null entry). */
export function parseHasVectorSets(reply: unknown): boolean {
  return Array.isArray(reply) && reply.length === 1 && reply[0] !== null && reply[0] !== undefined
}
