import type { Schedule } from './expression.js'

/** Time source of the scheduler; tests substitute a fake one. */
export interface SchedulerClock {
  now(): number
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

// setTimeout fires at once for delays above 2^31 - 1 ms (~24.8 days): longer waits are slept in parts.
const MAX_TIMER_MS = 2 ** 31 - 1

export const realSchedulerClock: SchedulerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve()
        return
      }
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, Math.min(Math.max(ms, 0), MAX_TIMER_MS))
      signal.addEventListener('abort', done, { once: true })
    }),
}

export interface SchedulerOptions {
  schedule: Schedule
  /** Runs one slot; must be safe to call again for the same slot. */
  runSlot(slotMs: number): Promise<void>
  /** The latest slot that ran to completion before this process started (null if none), e.g. read from the run store. */
  lastCompletedSlot(): Promise<number | null>
  clock?: SchedulerClock
  /** Reports a failed slot (or a failed lastCompletedSlot lookup); defaults to console.error. */
  onError?(err: unknown, slotMs: number): void
}

/**
 * In-process stand-in for the EventBridge rule: runs one slot per fire time of the schedule.
 * - On start it catches up by running only the latest missed slot, once (not every missed slot).
 * - Runs never overlap; after a run overruns one or more fire times, only the latest due slot runs next.
 * - A failed slot is reported through onError and not retried; the loop waits for the next fire time.
 */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #clock: SchedulerClock
  #abort: AbortController | null = null
  #loop: Promise<void> | null = null

  constructor(options: SchedulerOptions) {
    this.#options = options
    this.#clock = options.clock ?? realSchedulerClock
  }

  /** True from start() until the loop has ended (after stop(), or when the schedule never fires again). */
  get running(): boolean {
    return this.#loop !== null
  }

  /** Starts the loop; does nothing if it is already running. */
  start(): void {
    if (this.#loop) return
    const abort = new AbortController()
    this.#abort = abort
    const loop = this.#run(abort.signal)
      .catch((err: unknown) => this.#report(err, Number.NaN))
      .finally(() => {
        if (this.#loop === loop) {
          this.#loop = null
          this.#abort = null
        }
      })
    this.#loop = loop
  }

  /** Stops the loop: aborts the wait, and resolves once an in-flight run has finished. No run starts after. */
  async stop(): Promise<void> {
    this.#abort?.abort()
    await this.#loop
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { schedule } = this.#options
    let last: number | null = null
    try {
      last = await this.#options.lastCompletedSlot()
    } catch (err) {
      // Unknown progress: treat as none. Running the due slot again is safe, runSlot is idempotent.
      this.#report(err, schedule.previous(this.#clock.now()) ?? Number.NaN)
    }
    if (signal.aborted) return
    const due = schedule.previous(this.#clock.now())

    // The cursor is the latest slot handled; the loop waits for the first fire time after it.
    let cursor = due ?? this.#clock.now()
    if (due !== null && (last === null || due > last)) await this.#runOne(due)

    while (!signal.aborted) {
      const nextSlot = schedule.next(cursor)
      if (nextSlot === null) return // the schedule never fires again
      for (let wait = nextSlot - this.#clock.now(); wait > 0; wait = nextSlot - this.#clock.now()) {
        await this.#clock.sleep(wait, signal)
        if (signal.aborted) return
      }
      // After an overrun several fire times may have passed: run only the latest of them.
      const latest = schedule.previous(this.#clock.now())
      const slot = latest !== null && latest > nextSlot ? latest : nextSlot
      await this.#runOne(slot)
      cursor = slot
    }
  }

  async #runOne(slotMs: number): Promise<void> {
    try {
      await this.#options.runSlot(slotMs)
    } catch (err) {
      this.#report(err, slotMs)
    }
  }

  #report(err: unknown, slotMs: number): void {
    try {
      if (this.#options.onError) this.#options.onError(err, slotMs)
      else defaultOnError(err, slotMs)
    } catch {
      // A failing error handler must not stop the loop.
    }
  }
}

function defaultOnError(err: unknown, slotMs: number): void {
  const slot = Number.isFinite(slotMs) ? new Date(slotMs).toISOString() : 'unknown slot'
  console.error(
    `meterflow scheduler: slot ${slot} failed: ${err instanceof Error ? err.message : String(err)}`,
  )
}
