import { describe, expect, it } from 'vitest'
import {
  API_KEY_PATTERN,
  allows,
  formatToken,
  hashToken,
  parseKeyName,
  parseScopes,
  tokenId,
  tokenMatches,
} from './api-key.js'

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill)

describe('API key tokens', () => {
  it('are mf_ + a 12-hex-digit id + 43 base64url characters, and give their id back', () => {
    const { id, token } = formatToken(bytes(6, 0xab), bytes(32, 0xff))
    expect(id).toBe('abababababab')
    expect(token).toBe(`mf_abababababab_${'_'.repeat(42)}8`)
    expect(token).toMatch(API_KEY_PATTERN)
    expect(tokenId(token)).toBe(id)
  })

  it('refuse the wrong number of random bytes', () => {
    expect(() => formatToken(bytes(5, 1), bytes(32, 1))).toThrow(RangeError)
    expect(() => formatToken(bytes(6, 1), bytes(16, 1))).toThrow(RangeError)
  })

  it('have no id unless shaped exactly like a key', () => {
    const { token } = formatToken(bytes(6, 1), bytes(32, 2))
    for (const bad of [
      '',
      'mf_',
      token.slice(0, -1),
      `${token}x`,
      token.toUpperCase(),
      ` ${token}`,
      `Bearer ${token}`,
    ]) {
      expect(tokenId(bad)).toBeNull()
    }
  })

  it('match their own hash only', () => {
    const a = formatToken(bytes(6, 1), bytes(32, 2)).token
    const b = formatToken(bytes(6, 1), bytes(32, 3)).token
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/)
    expect(tokenMatches({ hash: hashToken(a) }, a)).toBe(true)
    expect(tokenMatches({ hash: hashToken(a) }, b)).toBe(false)
    expect(tokenMatches({ hash: 'not hex' }, a)).toBe(false)
  })
})

describe('scopes', () => {
  it('admin allows everything; ingest and read allow only themselves', () => {
    expect(allows(['admin'], 'ingest')).toBe(true)
    expect(allows(['admin'], 'read')).toBe(true)
    expect(allows(['ingest'], 'read')).toBe(false)
    expect(allows(['ingest'], 'admin')).toBe(false)
    expect(allows(['read'], 'ingest')).toBe(false)
    expect(allows(['ingest', 'read'], 'read')).toBe(true)
  })

  it('parse from a list or a comma list into canonical order, refusing unknown and empty', () => {
    expect(parseScopes('read, ingest,read')).toEqual({ ok: true, scopes: ['ingest', 'read'] })
    expect(parseScopes(['admin'])).toEqual({ ok: true, scopes: ['admin'] })
    for (const bad of ['', [], ['write'], 'read,', 42, null]) {
      expect(parseScopes(bad)).toMatchObject({ ok: false, issue: { field: 'scopes' } })
    }
  })

  it('key names are trimmed, 1..100 characters, without control characters', () => {
    expect(parseKeyName('  eu agent ')).toEqual({ ok: true, name: 'eu agent' })
    for (const bad of ['', '   ', 'x'.repeat(101), 'a\nb', 7]) {
      expect(parseKeyName(bad)).toMatchObject({ ok: false, issue: { field: 'name' } })
    }
  })
})
