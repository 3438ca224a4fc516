// Where a listener's connections come in: each is counted (and refused beyond the bounds) and must
// send its first byte within the deadline; only then is it handed on with that byte.
import { createServer, type Server, type Socket } from 'node:net'
import { deadline, type ConnectionGuard, type ThrottledLog } from './conn-guard.ts'

export interface FrontDoorOptions {
  guard: ConnectionGuard
  firstByteMs: number
  log: ThrottledLog
  /** For the log: "the serve port", "the CLI socket". */
  name: string
  /** The socket, paused, with its first bytes put back to be read again. */
  onFirstBytes: (socket: Socket, first: Buffer) => void
}

export function frontDoor(opts: FrontDoorOptions): Server {
  return createServer((socket) => {
    socket.on('error', () => socket.destroy())
    if (!opts.guard.admit(socket)) return
    const who = socket.remoteAddress ?? 'a local client'
    const wait = deadline(socket, opts.firstByteMs, () =>
      opts.log.say(
        `${opts.name}: silent`,
        `closed a connection to ${opts.name} from ${who}: it sent nothing within ${opts.firstByteMs} ms`,
      ),
    )
    socket.once('data', (first: Buffer) => {
      wait.clear()
      socket.pause()
      socket.unshift(first)
      opts.onFirstBytes(socket, first)
    })
  })
}
