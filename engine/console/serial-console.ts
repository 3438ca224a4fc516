// One VM's serial console, shared by any number of clients.
// Output is read from QEMU's chardev logfile, which QEMU writes whether or not anyone is connected:
// so what the guest printed while no engine ran (between a crash and a re-attach) is still there,
// and every client sees the same bytes in the same order. The engine holds the one connection to
// QEMU's serial socket, for input, and drains it so the guest never blocks on a full socket.
import { closeSync, fstatSync, openSync, readSync, watch, type FSWatcher } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { Listeners, type Disposable } from '../api/transport.ts'

/** At most this much history is handed to a client that attaches late. */
const HISTORY_LIMIT = 4 * 1024 * 1024

export class SerialConsole {
  private readonly logFile: string
  private readonly socketPath: string
  private fd: number | null = null
  private offset = 0
  private bootOffset = 0
  private watcher: FSWatcher | null = null
  private poll: NodeJS.Timeout | null = null
  private socket: Socket | null = null
  private readonly output = new Listeners<Uint8Array>()
  private disposed = false
  /** The connection being made (not yet `socket`), and the timer of the next try. */
  private dialing: Socket | null = null
  private retry: NodeJS.Timeout | null = null
  private pendingInput: Uint8Array[] = []

  constructor(socketPath: string, logFile: string) {
    this.socketPath = socketPath
    this.logFile = logFile
  }

  start(): void {
    this.fd = openSync(this.logFile, 'r')
    this.watcher = watch(this.logFile, () => this.pump())
    this.watcher.on('error', () => {
      /* the poll below still runs */
    })
    // inotify can coalesce or miss events on some filesystems: a slow poll closes the gap.
    this.poll = setInterval(() => this.pump(), 250)
    this.poll.unref()
    this.pump()
    this.connectSocket(0)
  }

  /** The guest rebooted: history for new clients starts here. */
  markBoot(): void {
    this.pump()
    this.bootOffset = this.offset
  }

  /** Output since the last boot, and a subscription to everything after it, with no gap between. */
  attach(listener: (bytes: Uint8Array) => void): { history: Uint8Array; subscription: Disposable } {
    this.pump()
    const from = Math.max(this.bootOffset, this.offset - HISTORY_LIMIT)
    const history = this.readRange(from, this.offset)
    return { history, subscription: this.output.add(listener) }
  }

  write(bytes: Uint8Array): void {
    if (this.socket && !this.socket.connecting) this.socket.write(bytes)
    else this.pendingInput.push(bytes)
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.pump()
    this.watcher?.close()
    if (this.poll) clearInterval(this.poll)
    this.socket?.destroy()
    // A connection still being made would otherwise complete after dispose and stay open.
    this.dialing?.destroy()
    this.dialing = null
    if (this.retry) clearTimeout(this.retry)
    this.retry = null
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
    this.output.clear()
  }

  private connectSocket(attempt: number): void {
    if (this.disposed) return
    const sock = connect(this.socketPath)
    this.dialing = sock
    sock.on('connect', () => {
      if (this.dialing === sock) this.dialing = null
      this.socket = sock
      for (const b of this.pendingInput.splice(0)) sock.write(b)
    })
    sock.on('data', () => {
      /* output is read from the logfile; the socket is drained so QEMU never stalls */
    })
    sock.on('error', () => {
      /* close follows */
    })
    sock.on('close', () => {
      if (this.socket === sock) this.socket = null
      if (this.dialing === sock) this.dialing = null
      if (!this.disposed && attempt < 50) {
        this.retry = setTimeout(() => this.connectSocket(attempt + 1), 100)
        this.retry.unref()
      }
    })
  }

  private pump(): void {
    if (this.fd === null) return
    const size = fstatSync(this.fd).size
    if (size < this.offset) {
      // Truncated: QEMU was restarted with a fresh log.
      this.offset = 0
      this.bootOffset = 0
    }
    while (this.offset < size) {
      const chunk = this.readRange(this.offset, Math.min(size, this.offset + 65536))
      if (chunk.byteLength === 0) break
      this.offset += chunk.byteLength
      this.output.emit(chunk)
    }
  }

  private readRange(from: number, to: number): Uint8Array {
    if (this.fd === null || to <= from) return new Uint8Array(0)
    const buf = Buffer.alloc(to - from)
    const n = readSync(this.fd, buf, 0, buf.byteLength, from)
    return buf.subarray(0, n)
  }
}
