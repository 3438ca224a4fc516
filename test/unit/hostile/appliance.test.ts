// Appliances crafted to hurt: fractional and absurd hardware (refused at inspect as at import, never
// a malformed result or a zod dump), and archives that unpack far past what they declare (stopped
// at the bound, nothing left). Through a real engine: image.inspect and vm.import.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { pack } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refusedWithoutTrace, startEngine, type HostileEngine } from './harness.ts'

let t: HostileEngine
let vmdk: Buffer
beforeAll(async () => {
  t = await startEngine()
  const img = join(t.scratch, 'src.raw')
  writeFileSync(img, Buffer.alloc(1024 * 1024, 7))
  const out = join(t.scratch, 'src.vmdk')
  execFileSync('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vmdk',
    '-o',
    'subformat=streamOptimized',
    img,
    out,
  ])
  vmdk = readFileSync(out)
  rmSync(img)
  rmSync(out)
})
afterAll(() => t.close())

const item = (type: number, fields: string) =>
  `<Item><rasd:InstanceID>${type}</rasd:InstanceID><rasd:ResourceType>${type}</rasd:ResourceType>${fields}</Item>`
const q = (v: string) => `<rasd:VirtualQuantity>${v}</rasd:VirtualQuantity>`

interface Parts {
  name?: string
  cpu?: string
  memory?: string
  /** Attributes of the File element after id and href. */
  file?: string
  capacity?: string
  extraItems?: string
}

function descriptor(p: Parts = {}): string {
  return `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="f1" ovf:href="disk1.vmdk"${p.file ?? ''}/></References>
  <DiskSection><Info>d</Info><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="${p.capacity ?? '1048576'}"/></DiskSection>
  <VirtualSystem ovf:id="crafted"><Info>vm</Info><Name>${p.name ?? 'Crafted'}</Name>
    <VirtualHardwareSection><Info>hw</Info>
      ${p.cpu ?? item(3, q('1'))}
      ${p.memory ?? item(4, `<rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>${q('128')}`)}
      ${item(6, '<rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>')}
      <Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>17</rasd:InstanceID><rasd:Parent>6</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      ${p.extraItems ?? ''}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`
}

let n = 0
async function ova(ovf: string, disk: Buffer = vmdk, gzipArchive = false): Promise<string> {
  const p = pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer)
  })()
  p.entry({ name: 'crafted.ovf', size: Buffer.byteLength(ovf) }, ovf)
  p.entry({ name: 'disk1.vmdk', size: disk.length }, disk)
  p.finalize()
  await done
  const path = join(t.scratch, `crafted-${n++}.ova`)
  const tar = Buffer.concat(chunks)
  writeFileSync(path, gzipArchive ? gzipSync(tar) : tar)
  return path
}

const oVirtCpu = (sockets: string, cores = '1') =>
  item(
    3,
    `<rasd:num_of_sockets>${sockets}</rasd:num_of_sockets><rasd:cpu_per_socket>${cores}</rasd:cpu_per_socket>`,
  )
const mem = (units: string, value: string) =>
  item(4, `<rasd:AllocationUnits>${units}</rasd:AllocationUnits>${q(value)}`)
const CPUS = (n: string) =>
  `the appliance asks for ${n} CPUs; Vireo gives a VM 1 to 64, so lower the CPU count in its descriptor`
const MEMORY = (mib: string) =>
  `the appliance asks for ${mib} MiB of memory; Vireo gives a VM 16 MiB to 1024 GiB, so change the memory item of its descriptor`

describe('hardware no VM can have', () => {
  it.each<[string, Parts, string]>([
    ['1.5 sockets', { cpu: oVirtCpu('1.5') }, `the CPU item's num_of_sockets is "1.5", not a whole number`],
    [
      'cores that are no number',
      { cpu: oVirtCpu('2', 'abc') },
      `the CPU item's cpu_per_socket is "abc", not a whole number`,
    ],
    [
      'negative sockets',
      { cpu: oVirtCpu('-2') },
      `the CPU item's num_of_sockets is "-2", not a whole number`,
    ],
    ['100 sockets of 100 cores', { cpu: oVirtCpu('100', '100') }, CPUS('10000')],
    ['no sockets', { cpu: oVirtCpu('0') }, CPUS('0')],
    ['10 000 CPUs', { cpu: item(3, q('10000')) }, CPUS('10000')],
    ['65 CPUs', { cpu: item(3, q('65')) }, CPUS('65')],
    ['no CPUs', { cpu: item(3, q('0')) }, CPUS('0')],
    ['1.5 CPUs', { cpu: item(3, q('1.5')) }, 'the CPU count is "1.5", not a whole number'],
    [
      'CPUs with an escape',
      { cpu: item(3, q('4\x1b[2J')) },
      'the CPU count is "4\\x1b[2J", not a whole number',
    ],
    ['10 TiB of memory', { memory: mem('byte * 2^40', '10') }, MEMORY('10485760')],
    ['10 240 GigaBytes', { memory: mem('GigaBytes', '10240') }, MEMORY('10485760')],
    ['no memory', { memory: mem('byte * 2^20', '0') }, MEMORY('0')],
    ['one byte of memory', { memory: mem('byte', '1') }, MEMORY('1')],
    [
      'a 32-digit memory size',
      { memory: mem('byte', '9'.repeat(32)) },
      `the memory size is "${'9'.repeat(32)}", not a whole number`,
    ],
    [
      'memory in 2^1000 bytes',
      { memory: mem('byte * 2^1000', '1') },
      'the memory size: the unit "byte * 2^1000" is not one Vireo understands',
    ],
    [
      'memory in furlongs',
      { memory: mem('furlongs', '1') },
      'the memory size: the unit "furlongs" is not one Vireo understands',
    ],
    [
      'memory as an exponent',
      { memory: mem('MegaBytes', '1e3') },
      'the memory size is "1e3", not a whole number',
    ],
    [
      'a 100 TiB disk',
      { capacity: String(100 * 2 ** 40) },
      'the disk "d1" claims 100.0 TiB; Vireo refuses disks over 64.0 TiB',
    ],
    ['a 1.5-byte disk', { capacity: '1.5' }, 'the capacity of disk "d1" is "1.5", not a whole number'],
    [
      'nine cards',
      { extraItems: Array(9).fill(item(10, '<rasd:ResourceSubType>E1000</rasd:ResourceSubType>')).join('') },
      'the appliance has 9 network cards; Vireo imports at most 8',
    ],
  ])('%s: refused by inspect and by import', async (_what, parts, message) => {
    const path = await ova(descriptor(parts))
    await refusedWithoutTrace(t, 'image.inspect', { path }, 'invalid_request', message)
    await refusedWithoutTrace(t, 'vm.import', { path }, 'invalid_request', message)
  })
})

describe('archives that unpack past what they declare', () => {
  const vms = () => readdirSync(join(t.dataDir, 'vms'))

  it('a gzip member that unpacks to 64 MiB for a 1 MiB disk stops at the bound', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 2 ** 20))
    expect(bomb.length).toBeLessThan(200 * 1024)
    const path = await ova(descriptor({ file: ' ovf:compression="gzip"' }), bomb)
    await refusedWithoutTrace(
      t,
      'vm.import',
      { path },
      'invalid_request',
      `the appliance's file "disk1.vmdk" unpacks to more than 33.0 MiB, far beyond the 1 MiB disk it claims to hold; Vireo stopped unpacking it and kept nothing of it`,
    )
    expect(vms()).toEqual([])
  })

  it('a member larger than its declared ovf:size is refused before it is written', async () => {
    const path = await ova(descriptor({ file: ' ovf:size="1000"' }))
    await refusedWithoutTrace(
      t,
      'vm.import',
      { path },
      'invalid_request',
      `the appliance's file "disk1.vmdk" holds more than the 1000 bytes its descriptor declares; the appliance is damaged or not what it claims, so Vireo stopped and kept nothing of it`,
    )
  })

  it("a gzip-compressed OVA whose tar entry is far larger than the disk's image can be", async () => {
    const path = await ova(descriptor(), Buffer.alloc(40 * 2 ** 20), true)
    await refusedWithoutTrace(
      t,
      'vm.import',
      { path },
      'invalid_request',
      `the appliance's file "disk1.vmdk" holds more than a 1 MiB disk's image can take; the appliance is damaged or not what it claims, so Vireo stopped and kept nothing of it`,
    )
  })

  it('a gzip member within its declared size that still unpacks past the disk', async () => {
    const bomb = gzipSync(Buffer.alloc(40 * 2 ** 20))
    const path = await ova(descriptor({ file: ` ovf:size="${bomb.length}" ovf:compression="gzip"` }), bomb)
    await refusedWithoutTrace(
      t,
      'vm.import',
      { path },
      'invalid_request',
      /^the appliance's file "disk1\.vmdk" unpacks to more than 33\.0 MiB, far beyond the 1 MiB disk/,
    )
  })
})

describe("what an appliance's descriptor says about itself", () => {
  it('a name holding a raw ESC, a newline and a bidi override becomes a plain name, at inspect and import', async () => {
    const path = await ova(descriptor({ name: 'Evil\x1b[2J\nForged\u202etxt' }))
    const inspected = await t.call('image.inspect', { path })
    expect((inspected.result as { appliance: { name: string } }).appliance.name).toBe('Evil [2J Forgedtxt')
    const imported = await t.call('vm.import', { path })
    expect(imported.error).toBeUndefined()
    expect((imported.result as { name: string }).name).toBe('Evil [2J Forgedtxt')
  })
})
