// How the CLI reaches the host that owns a data dir: its unix socket, starting a background host
// first if none runs (as VBoxManage starts VBoxSVC), so VMs outlive the CLI.
import { spawn } from 'node:child_process'
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import { dataDirLayout } from '../host/data-dir.ts'
import { HostRecord } from '../host/host-record.ts'
import { readOwner } from '../host/lock.ts'
import { isAlive } from '../host/process-alive.ts'

const cliEntry = resolve(dirname(fileURLToPath(import.meta.url)), 'main.ts')

export function openUnixSocket(socketPath: string): Promise<RpcClient> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(`ws+unix:${socketPath}:/rpc`)
    ws.once('open', () => {
      ws.removeAllListeners('error')
      resolvePromise(new RpcClient(webSocketTransport(ws as unknown as WebSocketLike)))
    })
    ws.once('error', (err) => reject(err))
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
  try {
    return await openUnixSocket(hostSocket(dataDir))
  } catch {
    return null
  }
}

export async function connectOrStart(dataDir: string): Promise<RpcClient> {
  const existing = await connectIfRunning(dataDir)
  if (existing) return existing
  const layout = dataDirLayout(dataDir)
  const owner = readOwner(layout.lockFile)
  if (owner === null || !isAlive(owner)) startBackgroundHost(dataDir)
  // Either ours or one that is still starting: wait for its socket.
  const deadline = Date.now() + 30_000
  let lastError: unknown = null
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150))
    try {
      return await openUnixSocket(hostSocket(dataDir))
    } catch (err) {
      lastError = err
    }
  }
  throw new VireoError(
    'unavailable',
    `the background Vireo host did not start (see ${join(layout.root, 'logs', 'host.log')}): ${(lastError as Error)?.message ?? ''}`,
  )
}

function startBackgroundHost(dataDir: string): void {
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
  } finally {
    closeSync(log)
  }
}
