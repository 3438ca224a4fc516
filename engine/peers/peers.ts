// What a host knows of other hosts: its pairings (TrustStore), the code it shows while it accepts
// a new one, and connections to the remotes it sends machines to.
import { VireoError } from '../api/errors.ts'
import type { PairCodeInfo, RemoteInfo, RemoteVms } from '../api/migration.ts'
import type { RpcClient } from '../api/client.ts'
import { formatCode, PairingServer, pairWith } from './pairing.ts'
import { connectPeer } from './peer-client.ts'
import { TrustStore, type Peer } from './trust-store.ts'

export class Peers {
  readonly trust: TrustStore
  readonly pairing: PairingServer
  /** Where this host accepts other hosts (its serve port); null when it does not. */
  listening: { address: string; port: number } | null = null

  constructor(file: string, log: (line: string) => void) {
    this.trust = new TrustStore(file)
    this.pairing = new PairingServer(
      { hostId: this.trust.hostId, hostName: this.trust.hostName },
      (p) =>
        this.trust.upsert({
          hostId: p.hostId,
          hostName: p.hostName,
          name: null,
          address: null,
          port: null,
          key: p.key,
          pairedAt: new Date().toISOString(),
        }),
      log,
    )
  }

  async pairCode(): Promise<PairCodeInfo> {
    if (!this.listening)
      throw new VireoError(
        'invalid_state',
        'this host does not accept other hosts: run it with vireo serve (or turn on "accept machines from other hosts" in the app\'s settings)',
      )
    const { code, expiresAt } = await this.pairing.issue()
    return { code: formatCode(code), expiresAt: new Date(expiresAt).toISOString(), ...this.listening }
  }

  async addRemote(name: string, hostPort: string, code: string): Promise<RemoteInfo> {
    this.trust.assertNameFree(name)
    const { address, port } = splitHostPort(hostPort)
    const paired = await pairWith(`ws://${address.includes(':') ? `[${address}]` : address}:${port}`, code, {
      hostId: this.trust.hostId,
      hostName: this.trust.hostName,
    })
    if (paired.hostId === this.trust.hostId)
      throw new VireoError('invalid_request', 'that address is this host itself')
    const pairedAt = new Date().toISOString()
    this.trust.upsert({ ...paired, name, address, port, pairedAt })
    return { name, address, port, hostId: paired.hostId, hostName: paired.hostName, pairedAt }
  }

  /** A session with a remote over the paired channel; the caller closes it. */
  async connect(
    name: string,
  ): Promise<{ client: RpcClient; peer: Peer & { address: string; port: number } }> {
    const peer = this.trust.remote(name)
    const client = await connectPeer(peer, this.trust.hostId)
    return { client, peer }
  }

  async remoteVms(name: string): Promise<RemoteVms> {
    this.trust.remote(name)
    let client: RpcClient | null = null
    try {
      client = (await this.connect(name)).client
      const vms = await client.call('vm.list', {})
      return { remote: name, reachable: true, error: null, vms }
    } catch (err) {
      return { remote: name, reachable: false, error: (err as Error).message, vms: [] }
    } finally {
      client?.close()
    }
  }
}

export function splitHostPort(s: string): { address: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(s)
  const port = Number(m?.[3])
  if (!m || !(port >= 1 && port <= 65535)) throw new VireoError('invalid_request', `"${s}" is not HOST:PORT`)
  return { address: (m[1] ?? m[2])!, port }
}
