import type { DetectionRun } from '../domain/run.js'
import { floorToHour, toIso } from '../domain/time.js'
import { ConflictError } from '../errors.js'
import { failInterruptedRuns, type InterruptedRuns } from './interrupted-runs.js'
import { type DetectionDeps, type DetectionOutcome, type RunOptions, runDetection } from './run-detection.js'

/**
 * The one door to detection runs in a process: never two at once. The scheduler waits its turn; a request
 * that would start a second run while one is going gets a conflict instead of silently queueing.
 */
export class DetectionJob {
  private current: { slot: number; done: Promise<DetectionOutcome> } | null = null

  constructor(private readonly deps: DetectionDeps) {}

  get running(): boolean {
    return this.current !== null
  }

  /** Starts a run now, or throws ConflictError if one is in progress. */
  runNow(slot: number, trigger: DetectionRun['trigger'], options?: RunOptions): Promise<DetectionOutcome> {
    if (this.current) {
      throw new ConflictError(
        `a detection run for slot ${toIso(floorToHour(this.current.slot))} is in progress; try again when it has finished`,
      )
    }
    return this.start(slot, trigger, options)
  }

  /** Waits for any run in progress, then runs. */
  async runWhenFree(
    slot: number,
    trigger: DetectionRun['trigger'],
    options?: RunOptions,
  ): Promise<DetectionOutcome> {
    while (this.current) await this.current.done.catch(() => undefined)
    return this.start(slot, trigger, options)
  }

  /**
   * Records the runs still `running` that started before `startedBefore` as interrupted, and alerts ops. For a
   * process that knows nothing else runs detection on its stores (the embedded server at start); a run itself
   * only fails those past INTERRUPTED_AFTER_MS.
   */
  failInterruptedRuns(startedBefore: number): Promise<InterruptedRuns> {
    if (this.current) throw new ConflictError('a detection run is in progress in this process')
    return failInterruptedRuns(this.deps, startedBefore)
  }

  /** Resolves when no run is in progress (for shutdown). */
  async idle(): Promise<void> {
    while (this.current) await this.current.done.catch(() => undefined)
  }

  private start(
    slot: number,
    trigger: DetectionRun['trigger'],
    options?: RunOptions,
  ): Promise<DetectionOutcome> {
    const done = runDetection(this.deps, slot, trigger, options)
    const entry = { slot, done }
    this.current = entry
    const clear = () => {
      if (this.current === entry) this.current = null
    }
    done.then(clear, clear)
    return done
  }
}
