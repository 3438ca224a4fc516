// The parts of migration that need no QEMU: the sparse, checksummed file stream; paths a source may
// name on the destination; the compatibility report; the store of paired hosts; pairing itself
// (real OPAQUE over a real WebSocket on loopback); and the keys derived from a pairing.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { PeerHello } from '../../engine/api/migration.ts'
import { VmConfig } from '../../engine/api/vm-config.ts'
import { compatibility, type SourceFacts } from '../../engine/migration/compatibility.ts'
import { IncomingMigrations, safePath } from '../../engine/migration/incoming.ts'
import { receiveSparse, sendSparse } from '../../engine/migration/sparse-stream.ts'
import { PairingServer, pairWith, PAIR_PATH } from '../../engine/peers/pairing.ts'
import { channelKey, migrationKey } from '../../engine/peers/peer-keys.ts'
import { splitHostPort } from '../../engine/peers/peers.ts'
import { TrustStore } from '../../engine/peers/trust-store.ts'

const dirs: string[] = []
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vireo-mig-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('sparse stream', () => {
  async function roundTrip(content: Buffer, corrupt = false) {
    const dir = tmp()
    const src = join(dir, 'in.img')
    const dst = join(dir, 'out.img')
    writeFileSync(src, content)
    const pipe = new PassThrough()
    let wire = 0
    const counted = new PassThrough()
    counted.on('data', (d: Buffer) => {
      wire += d.length
      if (corrupt && wire > 40 && wire - d.length <= 40)
        d.writeUInt8(d.readUInt8(d.length - 1) ^ 0xff, d.length - 1)
      pipe.write(d)
    })
    counted.on('end', () => pipe.end())
    const fh = await open(dst, 'w')
    const receiving = receiveSparse(pipe, fh, content.length)
    let seen = 0
    const sent = await sendSparse({ path: src }, counted, (n) => (seen += n))
    counted.end()
    try {
      const got = await receiving
      return { sent, got, wire, seen, out: readFileSync(dst), blocks: statSync(dst).blocks }
    } finally {
      await fh.close()
    }
  }

  it('sends only what is not zero, and the copy is byte for byte the same', async () => {
    const content = Buffer.alloc(8 * 1024 * 1024)
    randomBytes(100_000).copy(content, 3 * 1024 * 1024)
    content.write('TAIL', content.length - 4)
    const r = await roundTrip(content)
    expect(r.out.equals(content)).toBe(true)
    expect(r.got).toBe(createHash('sha256').update(content).digest('hex'))
    expect(r.sent).toBe(r.got)
    expect(r.seen).toBe(content.length)
    // Two 64 KiB blocks hold the random run, one the tail: far less than 8 MiB crosses.
    expect(r.wire).toBeLessThan(300 * 1024)
    // The copy is sparse too.
    expect(r.blocks * 512).toBeLessThan(1024 * 1024)
  })

  it('refuses a file damaged on the way', async () => {
    const content = randomBytes(200_000)
    await expect(roundTrip(content, true)).rejects.toThrow(/damaged|outside/)
  })

  it('refuses a stream that ends before its digest', async () => {
    const dir = tmp()
    const fh = await open(join(dir, 'x'), 'w')
    const pipe = new PassThrough()
    pipe.end(Buffer.alloc(5))
    await expect(receiveSparse(pipe, fh, 10)).rejects.toThrow(/ended before/)
    await fh.close()
  })
})

describe('paths a source names', () => {
  it('stay inside the VM folder and never overwrite its own files', () => {
    expect(safePath('/d/vm', 'disks/a.qcow2')).toBe('/d/vm/disks/a.qcow2')
    expect(safePath('/d/vm', 'snapshots/s1/state')).toBe('/d/vm/snapshots/s1/state')
    for (const bad of [
      '../x',
      'disks/../../x',
      '/etc/passwd',
      'vm.json',
      'runtime.json',
      'incoming.json',
      '',
      '.',
      'a\0b',
    ])
      expect(() => safePath('/d/vm', bad), bad).toThrow(/not a path inside/)
  })

  it('a plan that names a file outside the folder is refused before anything is made', () => {
    const vmsDir = tmp()
    const incoming = new IncomingMigrations({
      vmsDir,
      runtimeDirOf: () => tmp(),
      qemuImg: () => Promise.resolve('qemu-img'),
      clash: () => null,
      launchIncoming: () => Promise.reject(new Error('not here')),
      register: () => {
        throw new Error('not here')
      },
      listenAddress: () => '127.0.0.1',
      log: () => undefined,
    })
    const config = VmConfig.parse({
      schemaVersion: 1,
      id: '6c1b0e8e-6a2f-4f7e-9a51-3b7d2f0c1a11',
      name: 'web',
      createdAt: '2026-01-01T00:00:00.000Z',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      cpus: 1,
      memoryMiB: 64,
      firmware: 'bios',
      disks: [{ id: 'disk0', path: '/etc/shadow', format: 'raw', bus: 'virtio-blk', serial: 'VIREO-1' }],
      cdroms: [],
      nics: [],
      bootOrder: ['disk'],
    })
    const peer = {
      hostId: config.id,
      hostName: 'p',
      name: null,
      address: null,
      port: null,
      key: 'a'.repeat(64),
      pairedAt: config.createdAt,
    }
    const plan = {
      migration: 'aaaaaaaaaaaaaaaa',
      mode: 'offline' as const,
      config,
      files: [],
      mirrored: [],
      sourceHostName: 'p',
      accelerator: null,
      postcopy: false,
    }
    expect(() => incoming.prepare(peer, 1, plan)).toThrow(/"\/etc\/shadow" is not a path inside/)
    const fine = { ...config, disks: [{ ...config.disks[0]!, path: 'disks/d.raw' }] }
    expect(() =>
      incoming.prepare(peer, 1, {
        ...plan,
        config: fine,
        files: [{ rel: 'disks/d.raw', size: 1, backing: '../../x' }],
      }),
    ).toThrow(/"\.\.\/\.\.\/x" is not a path inside/)
    expect(readdirSync(vmsDir)).toEqual([])
  })

  it('HOST:PORT with IPv4, names and IPv6', () => {
    expect(splitHostPort('10.0.0.2:7300')).toEqual({ address: '10.0.0.2', port: 7300 })
    expect(splitHostPort('[::1]:80')).toEqual({ address: '::1', port: 80 })
    expect(() => splitHostPort('host')).toThrow(/HOST:PORT/)
    expect(() => splitHostPort('h:70000')).toThrow(/HOST:PORT/)
  })
})

describe('compatibility', () => {
  const config = VmConfig.parse({
    schemaVersion: 1,
    id: '6c1b0e8e-6a2f-4f7e-9a51-3b7d2f0c1a11',
    name: 'web',
    createdAt: '2026-01-01T00:00:00.000Z',
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    cpus: 1,
    memoryMiB: 512,
    firmware: 'bios',
    disks: [
      { id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'VIREO-1' },
    ],
    cdroms: [],
    nics: [{ id: 'net0', model: 'virtio-net', mac: '52:54:00:12:34:56', network: { mode: 'nat' } }],
    bootOrder: ['disk'],
  })
  const src: SourceFacts = {
    config,
    live: true,
    copy: false,
    running: true,
    qemuVersion: '7.2.19',
    accelerator: 'tcg',
    transferBytes: 100 * 1024 * 1024,
    snapshots: ['first'],
    clones: [],
  }
  const hello: PeerHello = {
    hostId: '0c9b7a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
    hostName: 'other',
    version: '0.1.0',
    qemu: {
      version: '7.2.19',
      machines: ['pc-q35-7.2', 'pc-i440fx-7.2'],
      devices: ['virtio-net-pci', 'virtio-blk-pci'],
    },
    accelerator: 'tcg',
    ovmf: true,
    freeDiskBytes: 10 * 1024 ** 3,
    freeMemoryBytes: 4 * 1024 ** 3,
    migrationAddress: '127.0.0.1',
  }
  const failed = (r: ReturnType<typeof compatibility>) => r.checks.filter((c) => !c.ok).map((c) => c.what)

  it('passes between equal hosts, with every snapshot travelling', () => {
    const r = compatibility(src, hello, [])
    expect(failed(r)).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.snapshots.travel).toEqual(['first'])
  })

  it('names each problem in words', () => {
    const r = compatibility(
      { ...src, clones: ['c1'], accelerator: 'kvm' },
      {
        ...hello,
        qemu: { version: '8.0.0', machines: ['pc-q35-8.0'], devices: ['virtio-blk-pci'] },
        freeDiskBytes: 1024,
        freeMemoryBytes: 1024,
      },
      [{ id: '11111111-2222-4333-8444-555555555555', name: 'WEB', state: 'stopped', cpus: 1, memoryMiB: 64 }],
    )
    expect(r.ok).toBe(false)
    expect(failed(r)).toEqual([
      'QEMU version',
      'machine type',
      'accelerator',
      'CPU model',
      'device models',
      'free disk space',
      'free memory',
      'name',
      'linked clones',
    ])
    const detail = (what: string) => r.checks.find((c) => c.what === what)!.detail
    expect(detail('QEMU version')).toMatch(/7\.2\.19.*8\.0\.0.*offline/)
    expect(detail('device models')).toMatch(/virtio-net-pci/)
    expect(detail('name')).toMatch(/another VM named "WEB"/)
  })

  it('offline: a running VM must be shut down first; versions may differ', () => {
    const r = compatibility(
      { ...src, live: false },
      { ...hello, qemu: { ...hello.qemu!, version: '8.0.0' } },
      [],
    )
    expect(failed(r)).toEqual(['state'])
    expect(r.checks[0]!.detail).toMatch(/shut it down first/)
  })
})

describe('paired hosts', () => {
  it('keeps one entry per host, mode 0600, and a re-pairing replaces the key but keeps the name', () => {
    const file = join(tmp(), 'peers.json')
    const t = new TrustStore(file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const base = {
      hostId: '0c9b7a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
      hostName: 'b',
      pairedAt: new Date().toISOString(),
    }
    t.upsert({ ...base, name: 'b', address: '10.0.0.2', port: 7300, key: 'a'.repeat(64) })
    t.upsert({ ...base, name: null, address: null, port: null, key: 'b'.repeat(64) })
    const again = new TrustStore(file)
    expect(again.hostId).toBe(t.hostId)
    expect(again.remotes()).toMatchObject([{ name: 'b', address: '10.0.0.2', port: 7300 }])
    expect(again.byHostId(base.hostId)!.key).toBe('b'.repeat(64))
    expect(() => again.assertNameFree('B')).toThrow(/exists already/)
    again.removeRemote('b')
    expect(again.remotes()).toEqual([])
    expect(() => again.remote('b')).toThrow(/no remote host named "b"/)
  })

  it('derives different keys for the channel and for each migration', () => {
    const k = randomBytes(32).toString('hex')
    const a = channelKey(k)
    const b = migrationKey(k, 'aaaaaaaaaaaaaaaa')
    const c = migrationKey(k, 'bbbbbbbbbbbbbbbb')
    expect(new Set([a, b, c, Buffer.from(k, 'hex')].map((x) => x.toString('hex'))).size).toBe(4)
  })
})

describe('pairing', () => {
  async function destination() {
    const paired: { hostId: string; key: string }[] = []
    const logs: string[] = []
    const server = new PairingServer(
      { hostId: '0c9b7a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b', hostName: 'dest' },
      (p) => paired.push(p),
      (l) => logs.push(l),
    )
    const http = createServer()
    const wss = new WebSocketServer({ noServer: true })
    http.on('upgrade', (req, socket, head) => {
      if (req.url !== PAIR_PATH) return socket.destroy()
      wss.handleUpgrade(req, socket, head, (ws) => server.handle(ws, 'test'))
    })
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`
    return { server, url, paired, logs, close: () => http.close() }
  }
  const self = { hostId: '6c1b0e8e-6a2f-4f7e-9a51-3b7d2f0c1a11', hostName: 'src' }

  it('agrees the same key on both sides from the right code, once', async () => {
    const d = await destination()
    try {
      const { code } = await d.server.issue()
      const got = await pairWith(d.url, code, self)
      expect(got.hostName).toBe('dest')
      expect(d.paired).toHaveLength(1)
      expect(d.paired[0]!.key).toBe(got.key)
      expect(got.key).toMatch(/^[0-9a-f]{64}$/)
      // The code is not the key, and is spent.
      expect(got.key).not.toContain(code.toLowerCase())
      await expect(pairWith(d.url, code, self)).rejects.toThrow(/no valid pairing code/)
    } finally {
      d.close()
    }
  }, 20_000)

  it('three wrong codes use the code up', async () => {
    const d = await destination()
    try {
      const { code } = await d.server.issue()
      const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'
      await expect(pairWith(d.url, wrong, self)).rejects.toThrow(/wrong pairing code \(2 tries left\)/)
      await expect(pairWith(d.url, wrong, self)).rejects.toThrow(/1 tries left/)
      await expect(pairWith(d.url, wrong, self)).rejects.toThrow(/0 tries left/)
      await expect(pairWith(d.url, code, self)).rejects.toThrow(/no valid pairing code|used up/)
      expect(d.paired).toEqual([])
      expect(d.logs.filter((l) => /wrong pairing code/.test(l))).toHaveLength(3)
    } finally {
      d.close()
    }
  }, 20_000)

  it('an expired code pairs nothing', async () => {
    const d = await destination()
    try {
      const { code } = await d.server.issue(Date.now() - 10 * 60_000)
      await expect(pairWith(d.url, code, self)).rejects.toThrow(/no valid pairing code/)
    } finally {
      d.close()
    }
  }, 20_000)
})
