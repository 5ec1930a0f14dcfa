import type { AddressInfo } from 'node:net'
import dynalite from 'dynalite'

export interface Dynalite {
  /** e.g. http://127.0.0.1:43210 */
  endpoint: string
  /** Closes the server and its open connections; safe to call twice. */
  stop(): Promise<void>
}

/**
 * Starts dynalite (a DynamoDB implementation on LevelDB, in memory) in this process on a free port. Tables
 * become ACTIVE at once. dynalite lacks UpdateTimeToLive and TransactWriteItems.
 */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let stopped: Promise<void> | undefined
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()))
        // The SDK keeps connections alive: close them so close() does not wait for their idle timeout.
        server.closeAllConnections()
      })
      return stopped
    },
  }
}
