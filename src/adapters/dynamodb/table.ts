import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import { StoreError } from '../../errors.js'
import { errorName, wrapError } from './client.js'
import { METRIC_INDEX, PK, SK, TTL } from './keys.js'

/** The seed's table: pk/sk strings, GSI `metric-severity-index` on (metric S, detected_at N), projecting all. */
export function anomalyTableDefinition(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: 'S' },
      { AttributeName: SK, AttributeType: 'S' },
      { AttributeName: 'metric', AttributeType: 'S' },
      { AttributeName: 'detected_at', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: METRIC_INDEX,
        KeySchema: [
          { AttributeName: 'metric', KeyType: 'HASH' },
          { AttributeName: 'detected_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  }
}

/** How long create-table waits for the table to become ACTIVE. */
const ACTIVE_WAIT_S = 300

/**
 * Creates the anomaly table (pay per request) unless it exists, waits until it is ACTIVE, and enables TTL on
 * `ttl`. An existing table must have the seed's keys and GSI. An endpoint without UpdateTimeToLive (dynalite)
 * is tolerated with a warning; every other failure is a StoreError.
 */
export async function createAnomalyTable(
  client: DynamoDBClient,
  table: string,
  warn: (message: string) => void = (message) => console.warn(message),
): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'created'
  try {
    await client.send(new CreateTableCommand(anomalyTableDefinition(table)))
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') throw wrapError('create the table', table, err)
    outcome = 'exists'
  }
  try {
    await waitUntilTableExists(
      { client, maxWaitTime: ACTIVE_WAIT_S, minDelay: 0.1, maxDelay: 10 },
      { TableName: table },
    )
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }))
    checkSchema(table, Table)
  } catch (err) {
    throw wrapError('wait for the table to become active', table, err)
  }
  await enableTtl(client, table, warn)
  return outcome
}

async function enableTtl(client: DynamoDBClient, table: string, warn: (message: string) => void) {
  try {
    const { TimeToLiveDescription: ttl } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: table }),
    )
    const status = ttl?.TimeToLiveStatus
    if (status === 'ENABLED' || status === 'ENABLING') {
      if (ttl?.AttributeName === TTL) return
      throw new StoreError(
        `table ${table} has TTL on attribute ${String(ttl?.AttributeName)}, not ${TTL}: expired anomalies would never be deleted; disable it and run create-table again`,
      )
    }
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TTL },
      }),
    )
  } catch (err) {
    if (errorName(err) === 'UnknownOperationException') {
      const message = err instanceof Error ? err.message : ''
      warn(
        `TTL could not be enabled on this endpoint: UnknownOperationException${message ? `: ${message}` : ''} (expired items are not deleted there; anomaly queries still hide them)`,
      )
      return
    }
    throw wrapError('enable TTL', table, err)
  }
}

/** An existing table with other keys would take writes and answer queries wrongly: refuse it. */
function checkSchema(table: string, description: TableDescription | undefined): void {
  const expected = anomalyTableDefinition(table)
  const keys = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    JSON.stringify((schema ?? []).map((k) => [k.AttributeName, k.KeyType]))
  const problems: string[] = []
  if (keys(description?.KeySchema) !== keys(expected.KeySchema)) {
    problems.push(`key schema is ${keys(description?.KeySchema)}, expected ${keys(expected.KeySchema)}`)
  }
  const wanted = expected.GlobalSecondaryIndexes?.[0]
  const index = description?.GlobalSecondaryIndexes?.find((i) => i.IndexName === METRIC_INDEX)
  if (!index) problems.push(`GSI ${METRIC_INDEX} is missing`)
  else if (keys(index.KeySchema) !== keys(wanted?.KeySchema)) {
    problems.push(
      `GSI ${METRIC_INDEX} keys are ${keys(index.KeySchema)}, expected ${keys(wanted?.KeySchema)}`,
    )
  } else if (index.Projection?.ProjectionType !== 'ALL') {
    problems.push(`GSI ${METRIC_INDEX} projects ${String(index.Projection?.ProjectionType)}, expected ALL`)
  }
  if (problems.length > 0) {
    throw new StoreError(`table ${table} exists but is not a MeterFlow anomaly table: ${problems.join('; ')}`)
  }
}
