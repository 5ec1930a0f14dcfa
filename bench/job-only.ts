// `npx tsx bench/job-only.ts 1000 10000`: the job benchmark alone (volume only, then with shape), for quick iterations.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchJob } from './job.js'

const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-jobbench-'))
try {
  for (const n of process.argv.slice(2).map(Number)) {
    const log = (s: string) => process.stderr.write(`${s}\n`)
    console.log(JSON.stringify(await benchJob(dataDir, n, 10, log, true)))
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
