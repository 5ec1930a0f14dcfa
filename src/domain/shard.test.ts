import { describe, expect, it } from 'vitest'
import { ID_PATTERN } from './events.js'
import { ALL_CUSTOMERS, inRange, isSingleCustomer, rangeCovering } from './shard.js'

describe('rangeCovering', () => {
  it('holds exactly the valid ids from the least to the greatest', () => {
    const range = rangeCovering(['m', 'c', 'x'])
    expect(range).toEqual({ from: 'c', to: 'x!' })
    if (!range) throw new Error('no range')
    for (const id of ['c', 'm', 'x', 'ca', 'wzzz']) expect(inRange(id, range), id).toBe(true)
    // The first valid id after 'x' in byte order is 'x!': outside, like everything beyond it.
    for (const id of ['b~~~', 'x!', 'x!a', 'xa', 'y']) {
      expect(ID_PATTERN.test(id)).toBe(true)
      expect(inRange(id, range), id).toBe(false)
    }
  })

  it('is null for no ids', () => {
    expect(rangeCovering([])).toBeNull()
  })

  it('of one id is a single-customer range; of two ids, or any other range, is not', () => {
    expect(isSingleCustomer(rangeCovering(['acme']) ?? ALL_CUSTOMERS)).toBe(true)
    expect(isSingleCustomer(rangeCovering(['acme', 'acmf']) ?? ALL_CUSTOMERS)).toBe(false)
    expect(isSingleCustomer(ALL_CUSTOMERS)).toBe(false)
    expect(isSingleCustomer({ from: '', to: '!' })).toBe(false)
    expect(isSingleCustomer({ from: 'a', to: 'b' })).toBe(false)
  })
})
