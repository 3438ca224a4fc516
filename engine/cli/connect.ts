// How the CLI reaches the host that owns a data dir: its unix socket, starting a background host
// first if none runs (as VBoxManage starts VBoxSVC), so VMs outlive the CLI. Whether a host runs is
// decided by the lock's owner (engine/host/lock.ts, one rule everywhere): a host.json, socket or
// lock left by a dead host (or a zombie, or a pid reused since) never makes the CLI wait for it.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import { dataDirLayout } from '../util/data-dir.ts'
import { HostRecord } from '../host/host-record.ts'
import { lockHeld } from '../host/lock.ts'

const cliEntry = resolve(dirname(fileURLToPath(import.meta.url)), 'main.ts')
/** A host that accepted the connection answers the upgrade at once; one that does not is stuck. */
const HANDSHAKE_MS = 10_000
/** How long a host that is starting gets before its socket answers. */
const START_MS = 30_000

export function openUnixSocket(socketPath: string): Promise<RpcClient> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(`ws+unix:${socketPath}:/rpc`, { handshakeTimeout: HANDSHAKE_MS })
    ws.once('open', () => {
      ws.removeAllListeners('error')
      ws.removeAllListeners('unexpected-response')
      resolvePromise(new RpcClient(webSocketTransport(ws as unknown as WebSocketLike)))
    })
    ws.once('error', (err) => reject(err))
    // The host is there but refused (too many connections): its sentence, not a guess.
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body = (body + d).slice(0, 1000)))
      res.on('end', () =>
        reject(new VireoError('unavailable', body.trim() || `the Vireo host answered ${res.statusCode}`)),
      )
      res.on('error', () =>
        reject(new VireoError('unavailable', `the Vireo host answered ${res.statusCode}`)),
      )
    })
  })
}

function hostSocket(dataDir: string): string {
  const layout = dataDirLayout(dataDir)
  try {
    return HostRecord.parse(JSON.parse(readFileSync(layout.hostJson, 'utf8'))).socket
  } catch {
    return layout.hostSocket
  }
}

/** Connects to the running host, or returns null if none owns the data dir. */
export async function connectIfRunning(dataDir: string): Promise<RpcClient | null> {
  if (!lockHeld(dataDirLayout(dataDir).lockFile)) return null
  try {
    return await openUnixSocket(hostSocket(dataDir))
  } catch (err) {
    if (err instanceof VireoError) throw err
    return null
  }
}

export async function connectOrStart(dataDir: string): Promise<RpcClient> {
  const existing = await connectIfRunning(dataDir)
  if (existing) return existing
  const layout = dataDirLayout(dataDir)
  const hostLog = join(layout.root, 'logs', 'host.log')
  let child: { process: ChildProcess; exit: string | null } | null = null
  const startOne = () => {
    const p = startBackgroundHost(dataDir)
    const c = { process: p, exit: null as string | null }
    p.once('exit', (code, signal) => (c.exit = signal ? `killed by ${signal}` : `exit code ${code}`))
    child = c
  }
  if (!lockHeld(layout.lockFile)) startOne()
  // Either ours or one that is still starting: wait for its socket, as long as someone is there.
  const deadline = Date.now() + START_MS
  let lastError: unknown = null
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    try {
      return await openUnixSocket(hostSocket(dataDir))
    } catch (err) {
      if (err instanceof VireoError) throw err
      lastError = err
    }
    if (lockHeld(layout.lockFile)) continue
    const ours = child as { process: ChildProcess; exit: string | null } | null
    // The host we waited for died before it answered: start one ourselves, once.
    if (!ours) startOne()
    else if (ours.exit !== null)
      throw new VireoError(
        'unavailable',
        `the background Vireo host stopped (${ours.exit}) before it answered; see ${hostLog}`,
      )
  }
  throw new VireoError(
    'unavailable',
    `the background Vireo host did not start within ${START_MS / 1000} s (see ${hostLog}): ${(lastError as Error)?.message ?? ''}`,
  )
}

function startBackgroundHost(dataDir: string): ChildProcess {
  const logDir = join(resolve(dataDir), 'logs')
  mkdirSync(logDir, { recursive: true })
  const log = openSync(join(logDir, 'host.log'), 'a', 0o600)
  try {
    const child = spawn(process.execPath, [cliEntry, '--data-dir', resolve(dataDir), 'host', 'run'], {
      detached: true,
      stdio: ['ignore', log, log],
      shell: false,
    })
    child.unref()
    return child
  } finally {
    closeSync(log)
  }
}
