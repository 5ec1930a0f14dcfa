import { embeddedEngineHolder, embeddedEnginePath } from '../adapters/clickhouse/data-dir-lock.js'
import type { Config } from '../config.js'
import { DataDirLockedError } from '../errors.js'
import { type MeterFlow, type OpenOptions, openMeterFlow } from '../wiring.js'

/**
 * Runs `work` against the embedded store in this process, closing it afterwards. Every command that comes here
 * also takes --url (the lock message below sends people there).
 */
export async function withEmbeddedMeterFlow<T>(
  config: Config,
  work: (meterflow: MeterFlow) => Promise<T>,
): Promise<T> {
  // stdout carries the command's output (--json): console alerts go to stderr.
  const meterflow = await openEmbeddedMeterFlow(config, {
    write: (line) => process.stderr.write(`${line}\n`),
    metrics: false,
  })
  try {
    return await work(meterflow)
  } finally {
    await meterflow.close()
  }
}

/**
 * Opens the embedded store for a one-shot command. chDB allows one process per data directory and, when another
 * holds it, prints its own "Cannot lock file" line and fails with a bare "Failed to create connection": the
 * holder is looked for first (and again after a failure, for one that started meanwhile) to say what to do.
 */
export async function openEmbeddedMeterFlow(config: Config, options: OpenOptions): Promise<MeterFlow> {
  const enginePath = config.clickhouse.url ? null : embeddedEnginePath(config)
  const inUse = () => {
    const pid = enginePath === null ? null : embeddedEngineHolder(enginePath)
    return pid === null
      ? null
      : new DataDirLockedError(
          `the data directory ${config.dataDir} is in use by another MeterFlow process (pid ${pid}, the server?): stop it, or add --url http://<host>:<port> to this command to go through that server (with METERFLOW_API_KEY or --api-key)`,
        )
  }
  const before = inUse()
  if (before) throw before
  try {
    return await openMeterFlow(config, options)
  } catch (err) {
    const after = inUse()
    if (after) throw new DataDirLockedError(after.message, [], { cause: err })
    throw err
  }
}
