import { stat } from 'node:fs/promises'
import type { IngestResult } from '../app/ingest.js'
import { type FieldIssue, MeterFlowError } from '../errors.js'
import { RemoteError } from './http-client.js'
import { progressBar } from './progress.js'
import { type EventFileFormat, readEventBatches } from './read-events.js'

export class IngestFileError extends MeterFlowError {
  readonly code = 'ingest_file_failed'
  readonly httpStatus = 400
}

export interface IngestFileOptions {
  format?: EventFileFormat
  batchSize: number
}

/**
 * Streams a file into `send` batch by batch. Stops at the first rejected batch and names the file lines;
 * batches before it stay stored, and re-running the file is safe when the events carry event_id.
 */
export async function ingestFile(
  path: string,
  options: IngestFileOptions,
  send: (events: unknown[]) => Promise<IngestResult>,
): Promise<IngestResult> {
  const size = (await stat(path)).size
  const bar = progressBar('ingest', size, 'bytes')
  const total: IngestResult = {
    received: 0,
    stored: 0,
    duplicates: 0,
    conflicts: 0,
    details: [],
    replayed: false,
  }
  try {
    for await (const batch of readEventBatches(path, {
      format: options.format,
      batchSize: options.batchSize,
    })) {
      try {
        const result = await send(batch.events)
        total.received += result.received
        total.stored += result.stored
        total.duplicates += result.duplicates
        total.conflicts += result.conflicts
        total.details.push(...result.details.map((d) => atLine(d, batch.lines)))
      } catch (err) {
        if (err instanceof MeterFlowError || err instanceof RemoteError) {
          const details: FieldIssue[] = err.details.map((d) => atLine(d, batch.lines))
          throw new IngestFileError(
            `${path}: the batch starting at line ${batch.firstLine} was rejected (${err.message}); ${total.received} earlier events are stored`,
            details,
            { cause: err },
          )
        }
        throw err
      }
      bar.update(batch.bytesRead)
    }
    bar.update(size)
  } finally {
    bar.stop()
  }
  return total
}

/** A batch's field issue named by its file line. */
function atLine(issue: FieldIssue, lines: readonly number[]): FieldIssue {
  return issue.index === undefined
    ? issue
    : { ...issue, field: `line ${lines[issue.index] ?? '?'}: ${issue.field}` }
}
