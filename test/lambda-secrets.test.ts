import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readClickHouseSecret, SecretError } from '../src/adapters/secrets-manager/clickhouse-secret.js'
import { close, listen, urlOf } from './local-sns.js'

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:meterflow/clickhouse-AbCdEf'
const PASSWORD = 's3cr3t-Pa55word'

/** Secrets Manager's JSON protocol (awsJson1_1), as much of it as GetSecretValue needs. */
const secrets = new Map<string, string | null>()
const requests: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = []
let server: Server
let endpoint: string

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      requests.push({ headers: req.headers, body })
      const reply = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify(payload))
      }
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return reply(400, { __type: 'UnknownOperationException', message: 'unknown operation' })
      }
      const id = String(body.SecretId)
      if (!secrets.has(id)) {
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        })
      }
      const value = secrets.get(id)
      reply(200, {
        ARN: id,
        Name: 'meterflow/clickhouse',
        VersionId: '11111111-2222-3333-4444-555555555555',
        ...(value === null
          ? { SecretBinary: Buffer.from('binary').toString('base64') }
          : { SecretString: value }),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_764_000_000,
      })
    })
  })
  server = await listen(server.listen(0, '127.0.0.1'))
  endpoint = urlOf(server)
})
afterAll(async () => {
  if (server) await close(server)
})

const read = (arn: string) => readClickHouseSecret(arn, { endpoint, env: {} })

describe('the ClickHouse secret from Secrets Manager (real SDK, local endpoint)', () => {
  it('reads url, username and password with GetSecretValue', async () => {
    secrets.set(
      ARN,
      JSON.stringify({
        url: 'https://abc.eu-west-1.aws.clickhouse.cloud:8443',
        username: 'meterflow',
        password: PASSWORD,
        engine: 'clickhouse',
      }),
    )
    expect(await read(ARN)).toEqual({
      url: 'https://abc.eu-west-1.aws.clickhouse.cloud:8443',
      username: 'meterflow',
      password: PASSWORD,
    })
    const last = requests.at(-1)
    expect(last?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue')
    expect(last?.body).toEqual({ SecretId: ARN })
    // Signed for the ARN's region.
    expect(String(last?.headers.authorization)).toContain('/eu-west-1/secretsmanager/aws4_request')
  })

  it('accepts a partial secret (the others come from config)', async () => {
    const arn = `${ARN}-password-only`
    secrets.set(arn, JSON.stringify({ password: PASSWORD }))
    expect(await read(arn)).toEqual({ password: PASSWORD })
  })

  const unusable: [string, string | null, RegExp][] = [
    ['not JSON', `password=${PASSWORD}`, /SecretString: is not JSON/],
    ['a JSON array', JSON.stringify([PASSWORD]), /SecretString: must be a JSON object/],
    [
      'a bad URL',
      JSON.stringify({ url: `ftp://x/${PASSWORD}`, password: PASSWORD }),
      /url: must be an http\(s\) URL/,
    ],
    [
      'a non-string password',
      JSON.stringify({ url: 'https://h:8443', password: 12345 }),
      /password: must be a string/,
    ],
    [
      'none of the fields',
      JSON.stringify({ host: 'h', pass: PASSWORD }),
      /needs at least one of url, username, password/,
    ],
    ['a binary secret', null, /SecretString: missing/],
  ]
  it.each(unusable)(
    'refuses %s with a SecretError naming the ARN, not the content',
    async (_, value, reason) => {
      const arn = `${ARN}-${requests.length}`
      secrets.set(arn, value)
      const err = await read(arn).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SecretError)
      const message = (err as SecretError).message
      expect(message).toMatch(reason)
      expect(message).toContain(arn)
      expect(message).not.toContain(PASSWORD)
      expect(JSON.stringify((err as SecretError).details)).not.toContain(PASSWORD)
    },
  )

  it('says which secret could not be read and why', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-XyZ123'
    await expect(read(arn)).rejects.toThrow(
      new RegExp(
        `could not read ClickHouse secret ${arn}: ResourceNotFoundException: Secrets Manager can't find`,
      ),
    )
    await expect(read('arn:aws:s3:::bucket/key-that-is-long')).rejects.toThrow(
      /is not a Secrets Manager secret ARN/,
    )
  })
})
