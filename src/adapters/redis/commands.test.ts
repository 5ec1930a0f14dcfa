import { BasicCommandParser } from '@redis/client/dist/lib/client/parser.js'
import COMMANDS from '@redis/client/dist/lib/commands/index.js'
import { describe, expect, it } from 'vitest'
import { commandInfoVadd, expire, vadd, vemb, vrem, vsimBaseline } from './commands.js'

// node-redis' own command table (a CommonJS default export): its typed builders are the reference argv.
// Depending on the loader's interop the import is the table itself or the module holding it as `default`.
type Table = typeof COMMANDS.default
const table = ('VADD' in COMMANDS ? COMMANDS : COMMANDS.default) as Table
const { VADD, VEMB, VREM, VSIM_WITHSCORES } = table
const day = Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 17 ? 100 + h : 0.5))
const attributes = { weekday: 3, date: '2026-11-25', day: 20_417, total: 1336 }

/** The argv node-redis' typed command would send (its own builder, as the client runs it). */
function typed(build: (parser: BasicCommandParser) => void): string[] {
  const parser = new BasicCommandParser()
  build(parser)
  return parser.redisArgs.map(String)
}

describe('VADD', () => {
  const argv = vadd('meterflow:shape:acme:api_calls', day, '2026-11-25', attributes)

  it('is VALUES 24 with the exact values, the element, NOQUANT and SETATTR; no REDUCE, no CAS', () => {
    expect(argv.slice(0, 4)).toEqual(['VADD', 'meterflow:shape:acme:api_calls', 'VALUES', '24'])
    expect(argv.slice(4, 28).map(Number)).toEqual(day)
    expect(argv.slice(28)).toEqual([
      '2026-11-25',
      'NOQUANT',
      'SETATTR',
      '{"weekday":3,"date":"2026-11-25","day":20417,"total":1336}',
    ])
    expect(argv).not.toContain('REDUCE')
    expect(argv).not.toContain('CAS')
    expect(argv).not.toContain('Q8')
  })

  it('is word for word what node-redis vAdd builds for the same options', () => {
    expect(argv).toEqual(
      typed((p) =>
        VADD.parseCommand(p, 'meterflow:shape:acme:api_calls', day, '2026-11-25', {
          QUANT: 'NOQUANT',
          SETATTR: attributes,
        }),
      ),
    )
  })

  it('refuses a vector that is not 24 values', () => {
    expect(() => vadd('k', [1, 2], 'e', attributes)).toThrow(RangeError)
  })
})

describe('VSIM for the weekday baseline', () => {
  const argv = vsimBaseline('k', day, 20_417, 3, 4, 240)
  const filter = '.weekday == 3 and .day >= 20389 and .day <= 20410 and .total > 0 and .total >= 240'

  it('filters on the weekday, the previous weeks and the kept totals, exact scan, with scores', () => {
    expect(argv.slice(0, 4)).toEqual(['VSIM', 'k', 'VALUES', '24'])
    expect(argv.slice(28)).toEqual(['COUNT', '4', 'FILTER', filter, 'TRUTH', 'WITHSCORES'])
  })

  it('is word for word what node-redis vSimWithScores builds', () => {
    expect(argv).toEqual(
      typed((p) => VSIM_WITHSCORES.parseCommand(p, 'k', day, { COUNT: 4, FILTER: filter, TRUTH: true })),
    )
  })
})

describe('VEMB, VREM, EXPIRE, COMMAND INFO', () => {
  it('name the key and the element', () => {
    expect(vemb('k', '2026-11-25')).toEqual(['VEMB', 'k', '2026-11-25'])
    expect(vemb('k', '2026-11-25')).toEqual(typed((p) => VEMB.parseCommand(p, 'k', '2026-11-25')))
    expect(vrem('k', '2026-09-30')).toEqual(['VREM', 'k', '2026-09-30'])
    expect(vrem('k', '2026-09-30')).toEqual(typed((p) => VREM.parseCommand(p, 'k', '2026-09-30')))
    expect(expire('k', 86_400)).toEqual(['EXPIRE', 'k', '86400'])
    expect(commandInfoVadd()).toEqual(['COMMAND', 'INFO', 'VADD'])
  })
})
