// Following a long job from the CLI: a live percentage on a terminal, NDJSON progress events on
// stdout with --json (the contract: events first, the result last), silence when piped without it.
import { randomUUID } from 'node:crypto'
import type { RpcClient } from '../api/client.ts'
import type { Disposable } from '../api/transport.ts'
import type { JobProgress } from '../api/rpc.ts'
import { safe } from './plain-text.ts'

export interface FollowedJob extends Disposable {
  /** Pass this as the request's `job`. */
  job: string
  /** Prints the job's result: after NDJSON events it must be one line of its own too. */
  printResult(value: unknown): void
}

export function followJob(client: RpcClient, json: boolean): FollowedJob {
  const job = randomUUID()
  const tty = !json && process.stderr.isTTY
  let shown = false
  let streamed = false
  const sub = client.on('job.progress', (p) => {
    if (p.job !== job) return
    if (json) {
      process.stdout.write(JSON.stringify({ event: 'progress', ...p }) + '\n')
      streamed = true
    } else if (tty) {
      process.stderr.write(`\r${describe(p)}\x1b[K`)
      shown = true
    }
  })
  return {
    job,
    printResult: (value) => process.stdout.write(JSON.stringify(value, null, streamed ? 0 : 2) + '\n'),
    dispose: () => {
      sub.dispose()
      if (shown) process.stderr.write('\n')
    },
  }
}

export function describe(p: JobProgress): string {
  // The phase names files ("converting disk.vmdk to qcow2"), which may hold anything.
  const phase = safe(p.phase)
  if (p.unit === 'percent') return `${phase}: ${p.done.toFixed(1)}%`
  if (p.total === null) return `${phase}: ${formatAmount(p.done, p.unit)}`
  const pct = p.total > 0 ? ` (${((100 * p.done) / p.total).toFixed(1)}%)` : ''
  return `${phase}: ${formatAmount(p.done, p.unit)} of ${formatAmount(p.total, p.unit)}${pct}`
}

function formatAmount(n: number, unit: JobProgress['unit']): string {
  if (unit !== 'bytes') return String(n)
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}
