// OVA archives and bare OVF folders through the real importer and real qemu-img: what is refused
// leaves nothing behind, and real-world archive shapes (gzip, out of order, subfolders, chunks) import.
import { execFileSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { pack, type Header } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkExportTarget } from '../../engine/appliance/export.ts'
import { importAppliance, type ImportOptions } from '../../engine/appliance/import.ts'
import { readApplianceSummary } from '../../engine/appliance/open.ts'
import { findOvmf } from '../../engine/qemu/binaries.ts'

let work: string
let vmdk: Buffer
let raw: Buffer

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

function descriptor(
  o: { href?: string; compression?: boolean; chunkSize?: number; capacity?: string; cpus?: number } = {},
) {
  const href = o.href ?? 'disk1.vmdk'
  return `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="f1" ovf:href="${href}"${o.compression ? ' ovf:compression="gzip"' : ''}${o.chunkSize ? ` ovf:chunkSize="${o.chunkSize}"` : ''}/></References>
  <DiskSection><Info>d</Info><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="${o.capacity ?? '1048576'}"/></DiskSection>
  <VirtualSystem ovf:id="tiny">
    <Info>vm</Info><Name>Tiny</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>${o.cpus ?? 1}</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>128</rasd:VirtualQuantity></Item>
      <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Address>00:50:56:01:02:03</rasd:Address><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`
}

type Entry = { header: Header | (Partial<Header> & { name: string }); body?: Buffer }

async function writeTar(path: string, entries: Entry[], gzip = false): Promise<string> {
  const p = pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer)
  })()
  for (const e of entries) {
    if (e.body) p.entry({ ...e.header, size: e.body.length }, e.body)
    else p.entry(e.header)
  }
  p.finalize()
  await done
  const tar = Buffer.concat(chunks)
  writeFileSync(path, gzip ? gzipSync(tar) : tar)
  return path
}

function manifestFor(files: Record<string, Buffer | string>): Buffer {
  return Buffer.from(
    Object.entries(files)
      .map(([n, b]) => `SHA256(${n})= ${sha256(b)}`)
      .join('\n') + '\n',
  )
}

function options(path: string, extra: Partial<ImportOptions> = {}): ImportOptions & { vmDir: string } {
  return {
    path,
    qemuImg: 'qemu-img',
    ovmfVarsTemplate: null,
    machineAliases: { q35: 'pc-q35-7.2', pc: 'pc-i440fx-7.2' },
    id: randomUUID(),
    vmDir: join(work, 'vms', randomUUID()),
    chooseName: (n) => n,
    macInUse: () => false,
    newMac: () => '52:54:00:00:00:99',
    ...extra,
  }
}

/** What is in the work folder besides the inputs: must stay the same across a refused import. */
function outsideFiles(): string[] {
  return readdirSync(work, { recursive: true }).map(String).sort()
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vireo-ova-'))
  mkdirSync(join(work, 'vms'))
  const img = join(work, 'src.raw')
  writeFileSync(img, Buffer.concat([Buffer.from('VIREO-DISK-CONTENT'), Buffer.alloc(1024 * 1024 - 18, 7)]))
  execFileSync('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vmdk',
    '-o',
    'subformat=streamOptimized',
    img,
    join(work, 'src.vmdk'),
  ])
  vmdk = readFileSync(join(work, 'src.vmdk'))
  raw = readFileSync(img)
  rmSync(img)
  rmSync(join(work, 'src.vmdk'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

function qcow2Holds(path: string): boolean {
  const out = join(work, 'check.raw')
  execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', path, out])
  const ok = readFileSync(out).equals(raw)
  rmSync(out)
  return ok
}

describe('importing an OVA', () => {
  it('takes a gzip-compressed archive with the descriptor last, in a subfolder, and verifies its manifest', async () => {
    const ovf = descriptor()
    const ova = await writeTar(
      join(work, 'shuffled.ova'),
      [
        { header: { name: 'tiny/', type: 'directory' } },
        { header: { name: 'tiny/disk1.vmdk' }, body: vmdk },
        { header: { name: 'tiny/tiny.mf' }, body: manifestFor({ 'tiny.ovf': ovf, 'disk1.vmdk': vmdk }) },
        { header: { name: './tiny/tiny.ovf' }, body: Buffer.from(ovf) },
      ],
      true,
    )
    const o = options(ova)
    const events: string[] = []
    const config = await importAppliance({ ...o, onProgress: (p) => events.push(`${p.unit}:${p.phase}`) })
    expect(config).toMatchObject({
      name: 'Tiny',
      cpus: 1,
      memoryMiB: 128,
      firmware: 'bios',
      machine: { type: 'q35' },
      disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'sata' }],
      nics: [{ id: 'net0', model: 'e1000', mac: '00:50:56:01:02:03' }],
    })
    expect(readdirSync(o.vmDir).sort()).toEqual(['disks', 'logs'])
    expect(readdirSync(join(o.vmDir, 'disks'))).toEqual(['disk0.qcow2'])
    expect(qcow2Holds(join(o.vmDir, 'disks', 'disk0.qcow2'))).toBe(true)
    expect(events).toContain('bytes:unpacking shuffled.ova')
    expect(events).toContain('percent:converting disk1.vmdk to qcow2')
    expect(await readApplianceSummary(ova)).toMatchObject({
      name: 'Tiny',
      disks: [{ file: 'disk1.vmdk', bus: 'sata' }],
    })
  })

  it('joins chunked files and undoes gzip compression; a MAC already taken gets a new one', async () => {
    const gz = gzipSync(raw)
    const half = Math.ceil(gz.length / 2)
    const ovf = descriptor({ href: 'disk1.raw', compression: true, chunkSize: half })
    const ova = await writeTar(join(work, 'chunked.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(ovf) },
      { header: { name: 'disk1.raw.000000001' }, body: gz.subarray(half) },
      { header: { name: 'disk1.raw.000000000' }, body: gz.subarray(0, half) },
    ])
    const o = options(ova, { macInUse: (m) => m === '00:50:56:01:02:03' })
    const config = await importAppliance(o)
    expect(config.nics![0]!.mac).toBe('52:54:00:00:00:99')
    expect(qcow2Holds(join(o.vmDir, 'disks', 'disk0.qcow2'))).toBe(true)
    expect(readdirSync(o.vmDir).sort()).toEqual(['disks', 'logs'])
  })

  const refusals: [string, Entry[], RegExp][] = [
    [
      'a ../ entry',
      [{ header: { name: '../evil' }, body: Buffer.from('x') }],
      /"\.\.\/evil" climbs out of the archive/,
    ],
    [
      'an absolute entry',
      [{ header: { name: '/abs' }, body: Buffer.from('x') }],
      /"\/abs" has an absolute path/,
    ],
    [
      'a symlink',
      [{ header: { name: 'disk1.vmdk', type: 'symlink', linkname: '/etc/passwd' } }],
      /"disk1.vmdk" is a symbolic link/,
    ],
    [
      'a hard link',
      [{ header: { name: 'disk1.vmdk', type: 'link', linkname: 'tiny.ovf' } }],
      /"disk1.vmdk" is a hard link/,
    ],
    [
      'a device',
      [{ header: { name: 'zero', type: 'character-device', devmajor: 1, devminor: 5 } }],
      /"zero" is a character device/,
    ],
  ]
  for (const [what, evil, message] of refusals) {
    it(`refuses an archive with ${what}, writing nothing`, async () => {
      const ovf = descriptor()
      const ova = await writeTar(join(work, `evil-${randomUUID()}.ova`), [
        { header: { name: 'tiny.ovf' }, body: Buffer.from(ovf) },
        { header: { name: 'disk1.vmdk' }, body: vmdk },
        ...evil,
      ])
      const before = outsideFiles()
      const o = options(ova)
      await expect(importAppliance(o)).rejects.toThrow(message)
      expect(existsSync(o.vmDir)).toBe(false)
      expect(outsideFiles()).toEqual(before)
      expect(existsSync(join(work, '..', 'evil'))).toBe(false)
    })
  }

  it('refuses a disk that does not match the manifest, and removes the VM folder it had begun', async () => {
    const ovf = descriptor()
    const tampered = Buffer.from(vmdk)
    const at = tampered.length - 1024
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0xff, at)
    const ova = await writeTar(join(work, 'tampered.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(ovf) },
      { header: { name: 'tiny.mf' }, body: manifestFor({ 'tiny.ovf': ovf, 'disk1.vmdk': vmdk }) },
      { header: { name: 'disk1.vmdk' }, body: tampered },
    ])
    const o = options(ova)
    await expect(importAppliance(o)).rejects.toThrow(/disk1.vmdk does not match the appliance's manifest/)
    expect(existsSync(o.vmDir)).toBe(false)
    // A descriptor that does not match is refused before anything is written.
    const ova2 = await writeTar(join(work, 'tampered-ovf.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(ovf.replace('<Name>Tiny', '<Name>Tinier')) },
      { header: { name: 'tiny.mf' }, body: manifestFor({ 'tiny.ovf': ovf, 'disk1.vmdk': vmdk }) },
      { header: { name: 'disk1.vmdk' }, body: vmdk },
    ])
    const o2 = options(ova2)
    await expect(importAppliance(o2)).rejects.toThrow(/tiny.ovf does not match/)
    expect(existsSync(o2.vmDir)).toBe(false)
  })

  it('refuses absurd sizes before writing anything', async () => {
    for (const [d, message] of [
      [descriptor({ capacity: String(2 ** 47) }), /claims 128.0 TiB/],
      [descriptor({ cpus: 4096 }), /4096 CPUs/],
    ] as const) {
      const ova = await writeTar(join(work, `absurd-${randomUUID()}.ova`), [
        { header: { name: 'tiny.ovf' }, body: Buffer.from(d) },
        { header: { name: 'disk1.vmdk' }, body: vmdk },
      ])
      const o = options(ova)
      await expect(importAppliance(o)).rejects.toThrow(message)
      expect(existsSync(o.vmDir)).toBe(false)
    }
  })

  it('refuses a VMDK descriptor naming a host file, a missing disk, and a file that is no tar', async () => {
    const sneaky = Buffer.from(
      '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/passwd" 0\n',
    )
    const ova = await writeTar(join(work, 'sneaky.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(descriptor()) },
      { header: { name: 'disk1.vmdk' }, body: sneaky },
    ])
    const o = options(ova)
    await expect(importAppliance(o)).rejects.toThrow(/VMDK descriptor that names other files/)
    expect(existsSync(o.vmDir)).toBe(false)
    const lacking = await writeTar(join(work, 'lacking.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(descriptor()) },
    ])
    await expect(importAppliance(options(lacking))).rejects.toThrow(/lacks disk1.vmdk/)
    // Truncated downloads, compressed or not, fail in words instead of hanging.
    const whole = await writeTar(join(work, 'whole.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(descriptor()) },
      { header: { name: 'disk1.vmdk' }, body: vmdk },
    ])
    for (const gzip of [false, true]) {
      const bytes = readFileSync(whole)
      const cut = join(work, `cut-${gzip}.ova`)
      const data = gzip ? gzipSync(bytes) : bytes
      writeFileSync(cut, data.subarray(0, Math.floor(data.length * 0.6)))
      const c = options(cut)
      await expect(importAppliance(c)).rejects.toThrow(/not a readable OVA/)
      expect(existsSync(c.vmDir)).toBe(false)
    }
    const junk = join(work, 'junk.ova')
    writeFileSync(junk, Buffer.alloc(4096, 0x41))
    await expect(importAppliance(options(junk))).rejects.toThrow(/not a readable OVA/)
  })
})

describe('firmware and machine', () => {
  const uefi = (d: string) =>
    d.replace(
      '</VirtualHardwareSection>',
      '<vmw:Config xmlns:vmw="http://www.vmware.com/schema/ovf" vmw:key="firmware" vmw:value="efi"/></VirtualHardwareSection>',
    )

  it('gives a UEFI appliance its variable store from OVMF, in qcow2', async () => {
    const ovmf = findOvmf()
    expect(ovmf, 'OVMF is installed on the test machines').not.toBeNull()
    const ova = await writeTar(join(work, 'uefi.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(uefi(descriptor())) },
      { header: { name: 'disk1.vmdk' }, body: vmdk },
    ])
    const o = options(ova, { ovmfVarsTemplate: ovmf!.varsTemplate })
    expect(await importAppliance(o)).toMatchObject({ firmware: 'uefi' })
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', join(o.vmDir, 'nvram.qcow2')], { encoding: 'utf8' }),
    ) as { format: string }
    expect(info.format).toBe('qcow2')
    // Without OVMF the import is refused before the VM's folder exists.
    const none = options(ova)
    await expect(importAppliance(none)).rejects.toThrow(/needs OVMF/)
    expect(existsSync(none.vmDir)).toBe(false)
  })

  it('puts a guest installed on IDE on the pc machine, whose PIIX IDE it has a driver for', async () => {
    const ide = descriptor().replace(
      '<rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType>',
      '<rasd:ResourceSubType>PIIX4</rasd:ResourceSubType><rasd:ResourceType>5</rasd:ResourceType>',
    )
    const ova = await writeTar(join(work, 'ide.ova'), [
      { header: { name: 'tiny.ovf' }, body: Buffer.from(ide) },
      { header: { name: 'disk1.vmdk' }, body: vmdk },
    ])
    expect(await importAppliance(options(ova))).toMatchObject({
      machine: { type: 'pc', version: 'pc-i440fx-7.2' },
      disks: [{ bus: 'ide' }],
      cdroms: [{ bus: 'ide' }],
    })
  })
})

describe('importing a bare OVF folder', () => {
  it('reads files beside the descriptor in place, and refuses hrefs and links that leave the folder', async () => {
    const dir = join(work, 'folder')
    mkdirSync(dir)
    writeFileSync(join(dir, 'disk1.vmdk'), vmdk)
    writeFileSync(join(dir, 'tiny.ovf'), descriptor())
    const o = options(join(dir, 'tiny.ovf'))
    await importAppliance(o)
    expect(qcow2Holds(join(o.vmDir, 'disks', 'disk0.qcow2'))).toBe(true)
    expect(readdirSync(dir).sort()).toEqual(['disk1.vmdk', 'tiny.ovf'])

    writeFileSync(join(work, 'outside.vmdk'), vmdk)
    writeFileSync(join(dir, 'up.ovf'), descriptor({ href: '../outside.vmdk' }))
    const up = options(join(dir, 'up.ovf'))
    await expect(importAppliance(up)).rejects.toThrow(/"\.\.\/outside.vmdk" climbs out/)
    symlinkSync(join(work, 'outside.vmdk'), join(dir, 'link.vmdk'))
    writeFileSync(join(dir, 'link.ovf'), descriptor({ href: 'link.vmdk' }))
    const link = options(join(dir, 'link.ovf'))
    await expect(importAppliance(link)).rejects.toThrow(/link.vmdk leads outside/)
    expect(existsSync(up.vmDir) || existsSync(link.vmDir)).toBe(false)
  })
})

describe('export targets', () => {
  it('must be absolute, end in .ova and be new', () => {
    expect(() => checkExportTarget('vm.ova')).toThrow(/must be absolute/)
    expect(() => checkExportTarget(join(work, 'vm.tar'))).toThrow(/must end in .ova/)
    writeFileSync(join(work, 'exists.ova'), '')
    expect(() => checkExportTarget(join(work, 'exists.ova'))).toThrow(
      /already exists; Vireo does not overwrite it/,
    )
    expect(() => checkExportTarget(join(work, 'no', 'such', 'vm.ova'))).toThrow(/does not exist/)
  })
})
