import type { RetryPolicy } from '../../domain/alert-factory.js'
import type { DetectionRun } from '../../domain/run.js'
import { type AlertChannel, type AnomalyStore, type Clock, noTelemetry, type Telemetry } from '../../ports.js'
import {
  addDeliverySummary,
  type DeliverDeps,
  type DeliverySummary,
  deliverDue,
  emptyDeliverySummary,
  requeueDelivery,
} from './deliver.js'
import {
  type AlertingOptions,
  type RaiseDeps,
  type RaiseSummary,
  type RoutedChannel,
  raiseDigest,
  raiseJobHealth,
  raiseTransitions,
  type TransitionAlert,
} from './raise.js'

export interface AlertServiceOptions extends AlertingOptions {
  retry: RetryPolicy
  leaseMs: number
  /** Where delivery outcomes are counted (default: nowhere). */
  telemetry?: Telemetry
}

/** Alerting bound to its store and channels: what the job, the HTTP API and the server's timer call. */
export class AlertService {
  private readonly raiseDeps: RaiseDeps
  private readonly deliverDeps: DeliverDeps
  private delivering: Promise<DeliverySummary> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null

  constructor(
    anomalies: AnomalyStore,
    readonly channels: readonly RoutedChannel[],
    clock: Clock,
    options: AlertServiceOptions,
  ) {
    this.raiseDeps = { anomalies, channels, clock, options }
    this.deliverDeps = {
      anomalies,
      channels: new Map(channels.map((c) => [c.channel.name, c.channel] as [string, AlertChannel])),
      clock,
      retry: options.retry,
      leaseMs: options.leaseMs,
      // A run that died between its outbox write and its incident write is re-run within the hour at the latest.
      confirmGraceMs: 2 * 3_600_000,
      telemetry: options.telemetry ?? noTelemetry,
    }
  }

  raiseTransitions(
    run: Pick<DetectionRun, 'runId' | 'slot'>,
    transitions: readonly TransitionAlert[],
  ): Promise<RaiseSummary> {
    return raiseTransitions(this.raiseDeps, run, transitions)
  }

  raiseJobHealth(run: DetectionRun): Promise<number> {
    return raiseJobHealth(this.raiseDeps, run)
  }

  raiseDigest(to: number): Promise<number> {
    return raiseDigest(this.raiseDeps, to)
  }

  /** Sends what is due. Calls while a pass is going join it and trigger one more pass after it. */
  deliver(): Promise<DeliverySummary> {
    if (this.delivering) {
      this.again = true
      return this.delivering
    }
    const pass = (async () => {
      const total = emptyDeliverySummary()
      do {
        this.again = false
        addDeliverySummary(total, await deliverDue(this.deliverDeps))
      } while (this.again)
      return total
    })()
    this.delivering = pass
    const clear = () => {
      this.delivering = null
    }
    pass.then(clear, clear)
    return pass
  }

  requeue(id: string) {
    return requeueDelivery(this.deliverDeps, id)
  }

  /** Delivers due alerts (retries) every `intervalMs` until stop(); errors go to `onError`, the loop goes on. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      this.deliver().catch(onError)
    }, intervalMs)
    this.timer.unref()
  }

  /** Stops the timer and waits for a pass in progress; then closes the channels. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.delivering?.catch(() => undefined)
    await Promise.allSettled(this.channels.map((c) => c.channel.close?.()))
  }
}
