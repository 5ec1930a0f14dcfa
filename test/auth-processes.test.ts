import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_KEY_PATTERN } from '../src/domain/api-key.js'
import { openAuthHarness, type Tokens } from './auth-fixtures.js'
import { type Harness, tempDataDir } from './helpers.js'

const data = tempDataDir('meterflow-auth-proc-')
let h: Harness
let tokens: Tokens

beforeAll(async () => {
  ;({ h, tokens } = await openAuthHarness())
})
afterAll(async () => {
  await h?.close()
  data.remove()
})

describe('the CLI against a server with auth on (--url)', () => {
  let url: string
  beforeAll(async () => {
    url = await h.app.listen({ port: 0, host: '127.0.0.1' })
  })

  /** Asynchronous: the server answering the CLI runs in this process, so a blocking spawn would deadlock. */
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const { METERFLOW_API_KEY: _ignored, ...rest } = process.env
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...rest, METERFLOW_DATA_DIR: join(data.dir, 'cli-remote'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c) => {
      stdout += c
    })
    child.stderr?.on('data', (c) => {
      stderr += c
    })
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (status) => resolve({ status, stdout, stderr })),
    )
  }
  const checkArgs = () => ['check', '--customer', 'auth-co', '--metric', 'api_calls', '--json', '--url', url]

  it('sends METERFLOW_API_KEY or --api-key as a Bearer key, and says what to do without one', async () => {
    const anonymous = await cli(checkArgs())
    expect(anonymous.status).toBe(1)
    expect(anonymous.stderr).toMatch(/API key is required.*METERFLOW_API_KEY or pass --api-key/)
    const byEnv = await cli(checkArgs(), { METERFLOW_API_KEY: tokens.read })
    expect(byEnv.stderr).toBe('')
    expect(byEnv.status).toBe(0)
    expect(JSON.parse(byEnv.stdout)).toMatchObject({ customer_id: 'auth-co' })
    const byOption = await cli([...checkArgs(), '--api-key', tokens.ingest])
    expect(byOption.status).toBe(1)
    expect(byOption.stderr).toMatch(/needs a key with scope read/)
  })

  it('manages keys through the API with an admin key', async () => {
    const created = await cli(['keys', 'create', '--name', 'remote', '--scope', 'ingest', '--url', url], {
      METERFLOW_API_KEY: tokens.admin,
    })
    expect(created.status).toBe(0)
    const token = created.stdout.trim()
    expect(token).toMatch(API_KEY_PATTERN)
    const listed = await cli(['keys', 'list', '--json', '--url', url], { METERFLOW_API_KEY: tokens.admin })
    expect(listed.stdout).toContain('"name":"remote"')
    expect(listed.stdout).not.toContain(token)
    const id = token.slice(3, 15)
    expect(
      (await cli(['keys', 'revoke', id, '--url', url], { METERFLOW_API_KEY: tokens.admin })).stdout,
    ).toMatch(new RegExp(`^revoked ${id}`))
    expect((await cli(['keys', 'list', '--url', url], { METERFLOW_API_KEY: tokens.read })).status).toBe(1)
  })
})

describe('meterflow keys on the embedded store', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], {
      env: { ...process.env, METERFLOW_DATA_DIR: join(data.dir, 'cli-local') },
      encoding: 'utf8',
      timeout: 60_000,
    })

  it('creates (printing the key once), lists without secrets, and revokes', () => {
    const created = cli(['create', '--name', 'eu agent', '--scope', 'ingest,read'])
    expect(created.status).toBe(0)
    const token = created.stdout.trim()
    expect(token).toMatch(API_KEY_PATTERN)
    expect(created.stderr).toContain('ingest,read')
    const id = token.slice(3, 15)
    const listed = cli(['list'])
    expect(listed.stdout).toMatch(new RegExp(`^${id}  ingest,read +eu agent .*last used never`))
    expect(listed.stdout + listed.stderr).not.toContain(token.slice(16))
    expect(cli(['revoke', id]).stdout).toMatch(/^revoked .*revoked 20/)
    expect(cli(['list', '--json']).stdout).toMatch(/"revoked_at":"20/)
    const bad = cli(['create', '--name', 'x', '--scope', 'write'])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/scopes: unknown scope 'write'/)
    expect(cli(['revoke', 'ffffffffffff']).status).toBe(1)
  })
})

describe('the first start', () => {
  /** Starts `npm start`'s entry point on a fresh port, waits until it listens, stops it; returns its output. */
  async function start(
    dataDir: string,
    env: Record<string, string> = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        METERFLOW_DATA_DIR: dataDir,
        METERFLOW_DEMO: '0',
        METERFLOW_SCHEDULER: '0',
        METERFLOW_AUTH: '',
        METERFLOW_ADMIN_KEY: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c) => {
      stdout += c
    })
    child.stderr?.on('data', (c) => {
      stderr += c
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const deadline = Date.now() + 45_000
    while (!stdout.includes('listening') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const listening = /listening on (http:\/\/\S+?)"/.exec(stdout)?.[1]
    if (listening) {
      const runs = await fetch(`${listening}/v1/runs`)
      expect(runs.status).toBe(401)
    }
    child.kill('SIGTERM')
    await exited
    return { stdout, stderr }
  }

  it('prints an admin key once, outside the log; a second start prints none', async () => {
    const dir = join(data.dir, 'first-start')
    const first = await start(dir)
    expect(first.stdout).toContain('listening')
    const keys = first.stdout.match(/mf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/g) ?? []
    // The key itself, and the export line.
    expect(keys.length).toBe(2)
    expect(new Set(keys).size).toBe(1)
    expect(first.stdout).toContain('MeterFlow created an admin API key')
    for (const line of first.stdout.split('\n').filter((l) => l.includes(keys[0] ?? '?'))) {
      expect(line.startsWith('{')).toBe(false)
    }
    const second = await start(dir)
    expect(second.stdout).toContain('listening')
    expect(second.stdout).not.toMatch(/mf_[0-9a-f]{12}_/)
    expect(second.stdout).not.toContain('created an admin API key')
  })

  it('refuses METERFLOW_AUTH=off on an address others can reach', async () => {
    const refused = await start(join(data.dir, 'open'), { METERFLOW_AUTH: 'off', METERFLOW_HOST: '0.0.0.0' })
    expect(refused.stderr).toMatch(/auth\.mode \(METERFLOW_AUTH\): off is only allowed on a loopback host/)
    expect(refused.stdout).not.toContain('listening')
  })
})
