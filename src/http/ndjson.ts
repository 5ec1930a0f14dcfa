import type { FastifyInstance } from 'fastify'
import { ValidationError } from '../errors.js'

export const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/json-lines',
]

/** Newline-delimited JSON bodies become an array, so both formats reach ingest in one shape. */
export function installNdjsonParser(app: FastifyInstance): void {
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_request, text, done) => {
    const events: unknown[] = []
    const lines = (text as string).split('\n')
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim()
      if (line === '') continue
      try {
        events.push(JSON.parse(line))
      } catch (err) {
        done(
          new ValidationError(`line ${i + 1} is not valid JSON; nothing was stored`, [
            { index: events.length, field: `(line ${i + 1})`, reason: (err as Error).message },
          ]),
        )
        return
      }
    }
    done(null, events)
  })
}
