// The hosts this one has paired with, and the key each pairing agreed (peers.json, mode 0600).
// One entry per host id: pairing again in either direction replaces the key on both sides, so the
// two stores always agree. A remote (one this host can send machines to) also has a name and an
// address; a host that only sends to this one has neither.
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { VireoError } from '../api/errors.ts'
import type { RemoteInfo } from '../api/migration.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'

const Peer = z.object({
  hostId: z.uuid(),
  hostName: z.string(),
  /** The local name of a remote (`vireo migrate --to NAME`); null for a host that only sends here. */
  name: z.string().nullable(),
  address: z.string().nullable(),
  port: z.number().int().nullable(),
  /** 32 random bytes from the PAKE, hex. */
  key: z.string().regex(/^[0-9a-f]{64}$/),
  pairedAt: z.iso.datetime(),
})
export type Peer = z.infer<typeof Peer>

const PeersFile = z.object({
  version: z.literal(1),
  hostId: z.uuid(),
  peers: z.array(Peer),
})
type PeersFile = z.infer<typeof PeersFile>

export class TrustStore {
  private readonly file: string
  private data: PeersFile

  constructor(file: string) {
    this.file = file
    this.data = existsSync(file) ? this.read() : { version: 1, hostId: randomUUID(), peers: [] }
    if (!existsSync(file)) this.write()
  }

  /** This host's own id, made once: what other hosts know it by. */
  get hostId(): string {
    return this.data.hostId
  }

  get hostName(): string {
    return hostname()
  }

  byHostId(id: string): Peer | null {
    return this.data.peers.find((p) => p.hostId === id) ?? null
  }

  remote(name: string): Peer & { name: string; address: string; port: number } {
    const p = this.data.peers.find((x) => x.name !== null && x.name.toLowerCase() === name.toLowerCase())
    if (!p || p.address === null || p.port === null)
      throw new VireoError('not_found', `there is no remote host named "${name}" (see vireo remote list)`)
    return p as Peer & { name: string; address: string; port: number }
  }

  remotes(): RemoteInfo[] {
    return this.data.peers.flatMap((p) =>
      p.name !== null && p.address !== null && p.port !== null
        ? [
            {
              name: p.name,
              address: p.address,
              port: p.port,
              hostId: p.hostId,
              hostName: p.hostName,
              pairedAt: p.pairedAt,
            },
          ]
        : [],
    )
  }

  assertNameFree(name: string): void {
    if (this.data.peers.some((p) => p.name !== null && p.name.toLowerCase() === name.toLowerCase()))
      throw new VireoError('conflict', `a remote host named "${name}" exists already; remove it first`)
  }

  /** Records a pairing: the key replaces any earlier one with that host; a name and address are kept. */
  upsert(peer: Peer): void {
    const old = this.byHostId(peer.hostId)
    const merged: Peer = old
      ? {
          ...peer,
          name: peer.name ?? old.name,
          address: peer.address ?? old.address,
          port: peer.port ?? old.port,
        }
      : peer
    this.data.peers = [...this.data.peers.filter((p) => p.hostId !== peer.hostId), merged]
    this.write()
  }

  /** Forgets the remote: name, address and key (to take machines from it again, pair again). */
  removeRemote(name: string): void {
    const p = this.remote(name)
    this.data.peers = this.data.peers.filter((x) => x.hostId !== p.hostId)
    this.write()
  }

  private read(): PeersFile {
    try {
      return PeersFile.parse(JSON.parse(readFileSync(this.file, 'utf8')))
    } catch (err) {
      throw new VireoError(
        'internal',
        `the paired hosts file ${this.file} cannot be read: ${(err as Error).message}`,
      )
    }
  }

  private write(): void {
    writeJsonAtomic(this.file, this.data, 0o600)
  }
}
