import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildLambda, LAMBDA_BUNDLE, LAMBDA_DIR, LAMBDA_ZIP, SDK_DECISION } from '../scripts/build-lambda.js'

export interface ColdImport {
  variant: string
  /** import() of the handler module in a fresh node process, median of `runs`. */
  importMsMedian: number
  importMs: number[]
  /** From process start until the module is imported (node's own start included), median. */
  readyMsMedian: number
}

export interface LambdaBenchResult {
  zipBytes: number
  /** index.mjs and its chunks. */
  bundleBytes: number
  sdk: string
  coldImport: ColdImport[]
}

const RUNS = 5
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Imports the module in `runs` fresh node processes (what a Lambda cold start pays for our code). */
export function coldImport(variant: string, modulePath: string, runs = RUNS): ColdImport {
  const code = `const t0 = performance.now()
const m = await import(${JSON.stringify(pathToFileURL(modulePath).href)})
const t1 = performance.now()
if (typeof m.handler !== 'function' || typeof m.worker !== 'function') throw new Error('handler or worker missing')
console.log(JSON.stringify({ importMs: t1 - t0, readyMs: t1 }))`
  const samples: { importMs: number; readyMs: number }[] = []
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      // As on Lambda: no METERFLOW_* settings are read at import (the container opens on the first invocation).
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    })
    if (child.status !== 0) throw new Error(`importing ${modulePath} failed: ${child.stderr}`)
    samples.push(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}'))
  }
  const importMs = samples.map((s) => Math.round(s.importMs))
  return {
    variant,
    importMs,
    importMsMedian: median(importMs),
    readyMsMedian: Math.round(median(samples.map((s) => s.readyMs))),
  }
}

/** Zip size and cold import time of the Lambda bundle (built first when missing). */
export async function benchLambda(log: (line: string) => void): Promise<LambdaBenchResult> {
  log('lambda bundle: building (npm run build:lambda)')
  // Always rebuilt: a stale dist/lambda would measure other code.
  const built = await buildLambda()
  if (!existsSync(LAMBDA_BUNDLE) || !existsSync(LAMBDA_ZIP)) throw new Error(`no bundle in ${LAMBDA_DIR}`)
  log(`lambda bundle: cold import x ${RUNS}`)
  const coldImports = [coldImport(`bundle (AWS SDK ${SDK_DECISION})`, LAMBDA_BUNDLE)]
  // The alternative not taken: the SDK from node_modules, as the runtime would provide it.
  const externalDir = join(LAMBDA_DIR, '..', 'lambda-external-sdk')
  try {
    await buildLambda({ externalAwsSdk: true, outDir: externalDir })
    coldImports.push(
      coldImport('bundle with the AWS SDK external (from node_modules)', join(externalDir, 'index.mjs')),
    )
  } finally {
    rmSync(externalDir, { recursive: true, force: true })
  }
  return {
    zipBytes: built.zipBytes,
    bundleBytes: built.bundleBytes,
    sdk: SDK_DECISION,
    coldImport: coldImports,
  }
}

export function printLambdaBench(result: LambdaBenchResult): void {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`
  console.log(
    `Lambda bundle: meterflow-lambda.zip ${mb(result.zipBytes)} (goal < 5 MB); index.mjs + chunks ${mb(result.bundleBytes)} unzipped; AWS SDK ${result.sdk}`,
  )
  console.table(
    result.coldImport.map((c) => ({
      variant: c.variant,
      'import ms (median)': c.importMsMedian,
      'import ms (runs)': c.importMs.join(', '),
      'process start to imported ms': c.readyMsMedian,
    })),
  )
}
