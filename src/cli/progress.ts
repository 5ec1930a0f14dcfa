import { SingleBar } from 'cli-progress'

export interface Progress {
  update(value: number): void
  stop(): void
}

/** A progress bar on a terminal; on a pipe or CI log, a line every 10%. */
export function progressBar(label: string, total: number, unit: 'bytes' | 'events'): Progress {
  const format = (v: number) => (unit === 'bytes' ? `${(v / 1048576).toFixed(1)} MiB` : String(v))
  if (!process.stderr.isTTY) {
    let lastDecile = -1
    return {
      update(value) {
        const decile = total > 0 ? Math.floor((value / total) * 10) : 10
        if (decile === lastDecile) return
        lastDecile = decile
        process.stderr.write(
          `${label}: ${Math.min(100, decile * 10)}% (${format(value)} of ${format(total)})\n`,
        )
      },
      stop() {},
    }
  }
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {done} of {all} | eta {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
  })
  bar.start(total, 0, { done: format(0), all: format(total) })
  return {
    update(value) {
      bar.update(value, { done: format(value), all: format(total) })
    },
    stop() {
      bar.stop()
    },
  }
}
