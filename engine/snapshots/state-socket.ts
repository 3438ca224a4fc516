// QEMU's migration stream to and from a state file, through a unix socket the engine owns: QEMU
// 7.2 has no file: migration URI, and exec: would run a shell.
import {
  createReadStream,
  createWriteStream,
  fsyncSync,
  openSync,
  closeSync,
  rmSync,
  statSync,
} from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { pipeline } from 'node:stream/promises'

export interface StateSink {
  /** Resolves with the bytes written once QEMU closed the stream and the file is on disk. */
  done: Promise<number>
  close(): void
}

/** Listens on `socketPath`; the first connection's bytes go to `file`. */
export async function receiveState(socketPath: string, file: string): Promise<StateSink> {
  rmSync(socketPath, { force: true })
  let server: Server | null = null
  const done = new Promise<number>((resolvePromise, reject) => {
    server = createServer({ allowHalfOpen: false }, (sock) => {
      server?.close()
      pipeline(sock, createWriteStream(file, { mode: 0o600 }))
        .then(() => {
          const fd = openSync(file, 'r')
          try {
            fsyncSync(fd)
          } finally {
            closeSync(fd)
          }
          resolvePromise(statSync(file).size)
        })
        .catch(reject)
    })
    server.on('error', reject)
  })
  done.catch(() => undefined)
  await new Promise<void>((r, j) => {
    server!.once('error', j)
    server!.listen(socketPath, () => r())
  })
  return {
    done,
    close: () => {
      server?.close()
      rmSync(socketPath, { force: true })
    },
  }
}

/** Connects to QEMU's incoming socket (retrying while QEMU sets it up) and sends the file. */
export async function sendState(socketPath: string, file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const sock = await new Promise<ReturnType<typeof connect>>((r, j) => {
        const s = connect(socketPath)
        s.once('connect', () => r(s))
        s.once('error', j)
      })
      await pipeline(createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }), sock)
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}
