import type { Command } from 'commander'
import { ApiKeys } from '../app/api-keys.js'
import type { Config } from '../config.js'
import { apiKeyJson } from '../http/serialize.js'
import { systemClock } from '../ports.js'
import { openAnomalyStore } from '../wiring.js'
import { MeterFlowHttpClient } from './http-client.js'

type KeyJson = ReturnType<typeof apiKeyJson>

interface RemoteOptions {
  url?: string
  apiKey?: string
}

/**
 * What the key commands need, locally (the configured anomaly store alone: SQLite allows other processes, so
 * this works while the server runs) or through a server's API with an admin key (--url).
 */
interface KeyBackend {
  create(name: string, scopes: string[]): Promise<KeyJson & { key: string }>
  list(): Promise<KeyJson[]>
  revoke(id: string): Promise<KeyJson>
}

async function withBackend<T>(
  config: Config,
  o: RemoteOptions,
  work: (b: KeyBackend) => Promise<T>,
): Promise<T> {
  if (o.url) {
    const client = new MeterFlowHttpClient(o.url, o.apiKey ?? config.client.apiKey)
    return work({
      create: async (name, scopes) => (await client.createKey(name, scopes)) as KeyJson & { key: string },
      list: async () => (await client.listKeys()).items as KeyJson[],
      revoke: async (id) => (await client.revokeKey(id)) as KeyJson,
    })
  }
  const store = await openAnomalyStore(config)
  try {
    const keys = new ApiKeys(store.apiKeys, systemClock)
    return await work({
      create: async (name, scopes) => {
        const { key, token } = await keys.create({ name, scopes })
        return { ...apiKeyJson(key), key: token }
      },
      list: async () => (await keys.list()).map(apiKeyJson),
      revoke: async (id) => apiKeyJson(await keys.revoke(id)),
    })
  } finally {
    await store.close()
  }
}

function describe(k: KeyJson): string {
  const state = k.revoked_at ? `revoked ${k.revoked_at}` : `last used ${k.last_used_at ?? 'never'}`
  return `${k.id}  ${k.scopes.join(',').padEnd(18)} ${k.name}  (created ${k.created_at}, ${state})`
}

/** `meterflow keys create|list|revoke`. */
export function registerKeyCommands(program: Command, config: Config): void {
  const keys = program
    .command('keys')
    .description('API keys (scopes: ingest, read, admin); without --url on the configured anomaly store')
  const remote = (command: Command) =>
    command
      .option('--url <url>', 'manage the keys of a running server through its API (needs an admin key)')
      .option('--api-key <key>', 'the admin key for --url (default: METERFLOW_API_KEY)')

  remote(
    keys
      .command('create')
      .description('create a key; prints the key itself on stdout, this once (only its hash is stored)')
      .requiredOption('--name <name>', 'what the key is for, e.g. "eu ingest agent"')
      .requiredOption('--scope <scopes>', 'comma-separated: ingest, read, admin (ingest does not imply read)')
      .option('--json', 'print the key record, with the key, as JSON'),
  ).action(async (o: RemoteOptions & { name: string; scope: string; json?: boolean }) => {
    const scopes = o.scope.split(',').map((s) => s.trim())
    const created = await withBackend(config, o, (b) => b.create(o.name, scopes))
    if (o.json) {
      console.log(JSON.stringify(created, null, 2))
      return
    }
    const { key, ...record } = created
    console.log(key)
    console.error(`created ${describe(record)}`)
    console.error('the key is shown this once: store it now (e.g. export METERFLOW_API_KEY=...)')
  })

  remote(
    keys
      .command('list')
      .description('list keys, revoked ones too, newest first (never the key itself)')
      .option('--json', 'print JSON lines'),
  ).action(async (o: RemoteOptions & { json?: boolean }) => {
    const items = await withBackend(config, o, (b) => b.list())
    for (const k of items) console.log(o.json ? JSON.stringify(k) : describe(k))
    if (!o.json) console.error(`${items.length} keys`)
  })

  remote(
    keys
      .command('revoke')
      .description('revoke a key by id for good (a running server stops accepting it within seconds)')
      .argument('<id>', 'the key id (the 12 hex digits after mf_)'),
  ).action(async (id: string, o: RemoteOptions) => {
    const revoked = await withBackend(config, o, (b) => b.revoke(id))
    console.log(`revoked ${describe(revoked)}`)
  })
}
