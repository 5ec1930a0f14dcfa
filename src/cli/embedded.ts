import { embeddedEngineHolder, embeddedEnginePath } from '../adapters/clickhouse/data-dir-lock.js'
import type { Config } from '../config.js'
import { DataDirLockedError } from '../errors.js'
import { type MeterFlow, type OpenOptions, openMeterFlow } from '../wiring.js'

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
          `the data directory ${config.dataDir} is in use by another MeterFlow process (pid ${pid}, the server?): stop it or use --url http://<host>:<port> to talk to it`,
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
