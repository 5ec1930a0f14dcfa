// The load generator of test/load.test.ts, in a process of its own so that it does not share the server's event
// loop: `node --import tsx test/load-client.ts <base url> <connections> <seconds> <events per request> <customers>`.
// Each connection is a loop of POST /v1/events that starts no request after the deadline but waits for the one in
// flight, so every event the server stored has a reply here (autocannon aborts in-flight requests when its
// duration ends, whose events are then stored without a reply, and the accepted-vs-stored count cannot be exact).
// Every event carries a unique event_id; every tenth request re-sends the loop's previous batch (a client retry).
// Prints one JSON line: what the replies said, and latency percentiles.

const HOUR = 3_600_000
const [baseUrl = '', connections = '4', seconds = '20', perRequest = '100', customerCount = '20'] =
  process.argv.slice(2)
const batchSize = Number(perRequest)
const customers = Number(customerCount)
const deadline = Date.now() + Number(seconds) * 1000

const totals = { received: 0, stored: 0, duplicates: 0, resentEvents: 0, badReplies: 0, errors: 0 }
const statuses: Record<string, number> = {}
const latencies: number[] = []
let sequence = 0

function freshBatch(): string {
  const batch = sequence++
  const now = Date.now()
  const events = Array.from({ length: batchSize }, (_, i) => ({
    event_id: `load-${process.pid}-${batch}-${i}`,
    customer_id: `load-${(batch * batchSize + i) % customers}`,
    metric: 'api_calls',
    value: 1 + (i % 10),
    // Spread over the last two days, never in the future.
    timestamp: now - 1_000 - ((batch * 7_919 + i * 104_729) % (48 * HOUR)),
  }))
  return JSON.stringify(events)
}

async function send(body: string, resend: boolean): Promise<void> {
  const began = performance.now()
  try {
    const res = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const text = await res.text()
    latencies.push(performance.now() - began)
    statuses[res.status] = (statuses[res.status] ?? 0) + 1
    if (res.status !== 200) return
    const reply = JSON.parse(text) as { received: number; stored: number; duplicates: number }
    totals.received += reply.received
    totals.stored += reply.stored
    totals.duplicates += reply.duplicates
    if (resend) totals.resentEvents += batchSize
  } catch {
    totals.errors++
  }
}

async function connection(): Promise<void> {
  let last = ''
  for (let n = 1; Date.now() < deadline; n++) {
    const resend = n % 10 === 0
    if (!resend) last = freshBatch()
    await send(last, resend)
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0)

const began = Date.now()
await Promise.all(Array.from({ length: Number(connections) }, connection))
const elapsedSeconds = (Date.now() - began) / 1000
const sorted = latencies.sort((a, b) => a - b)
process.stdout.write(
  `${JSON.stringify({
    ...totals,
    statuses,
    requests: latencies.length,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: percentile(sorted, 100),
    },
    requestsPerSecond: Math.round((latencies.length / elapsedSeconds) * 10) / 10,
    eventsPerSecond: Math.round(totals.received / elapsedSeconds),
    seconds: Math.round(elapsedSeconds * 10) / 10,
  })}\n`,
)
