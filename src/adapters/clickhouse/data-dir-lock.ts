import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config.js'

/** Where the embedded engine (chDB) keeps its data under the data directory. */
export function embeddedEnginePath(config: Config): string {
  return resolve(config.dataDir, 'clickhouse')
}

/**
 * The id of another process holding the embedded engine's directory, or null. chDB writes `PID: n` to the
 * directory's `status` file and keeps that file open and locked while it runs; the file stays behind after it
 * stops, so a pid only counts while that process still has the file open (on Linux, where /proc shows it;
 * elsewhere while the process is alive).
 */
export function embeddedEngineHolder(enginePath: string): number | null {
  const status = resolve(enginePath, 'status')
  let text: string
  try {
    text = readFileSync(status, 'utf8')
  } catch {
    return null
  }
  const pid = Number(/^PID:\s*(\d+)\s*$/m.exec(text)?.[1])
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => linkTarget(`/proc/${pid}/fd/${fd}`) === status)
      ? pid
      : null
  } catch (err) {
    // No such process (ENOENT under /proc), or no /proc to look in: fall back to whether it is alive.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return null
    return isAlive(pid) ? pid : null
  }
}

function linkTarget(path: string): string | null {
  try {
    return readlinkSync(path)
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
