// Opening a listener, and what to tell the user when the system refuses one.
import { isIP, type Server as NetServer } from 'node:net'
import type { Server } from 'node:http'
import { VireoError } from '../api/errors.ts'

export function listen(
  server: Server | NetServer,
  portOrPath: number | string,
  address?: string,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const failed = (err: Error) => reject(err)
    server.once('error', failed)
    const done = () => {
      server.off('error', failed)
      resolvePromise()
    }
    if (typeof portOrPath === 'string') server.listen(portOrPath, done)
    else server.listen(portOrPath, address, done)
  })
}

/**
 * A listen address must be one the machine has: an IP literal or localhost. Any other name would
 * be looked up in DNS first, and what it names can change under the host's feet.
 */
export function checkListenAddress(address: string): void {
  if (isIP(address) === 0 && address !== 'localhost')
    throw new VireoError(
      'invalid_request',
      `the listen address must be an IP address (such as 127.0.0.1 or ::1) or localhost, not "${address}"`,
    )
}

/** The system's refusal of a TCP listener, in one sentence; anything unforeseen stays as it was. */
export function listenRefusal(err: unknown, address: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code
  switch (code) {
    case 'EADDRINUSE':
      return new VireoError(
        'conflict',
        `port ${port} on ${address} is already in use; choose another port or free it`,
      )
    case 'EACCES':
      return new VireoError(
        'invalid_request',
        port < 1024
          ? `port ${port} on ${address} needs privileges this host does not have; choose a port above 1023`
          : `this host is not allowed to listen on port ${port} of ${address}; choose another port`,
      )
    case 'EADDRNOTAVAIL':
      return new VireoError(
        'invalid_request',
        `${address} is not an address of this machine; choose one of its own addresses, or 0.0.0.0 for all`,
      )
    case 'EAFNOSUPPORT':
      return new VireoError(
        'invalid_request',
        `this machine cannot listen on ${address} (its address family is off); choose an address of the other family`,
      )
    default:
      return err
  }
}
