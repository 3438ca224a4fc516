// Image inspection on real files: ISOs built here with xorriso and grub-mkrescue (BIOS only, UEFI
// only, both, none, a known volume id, a truncated copy), Linux kernels, broken and odd files, and
// OS detection against the osinfo-db installed on this machine.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adviceFor, inspectImageFile, type InspectDeps } from '../../engine/images/inspect-image.ts'
import { parseLinuxKernel } from '../../engine/images/linux-kernel.ts'
import { GENERIC_LINUX } from '../../engine/osinfo/built-in.ts'
import { forgetOsIndex, loadOsIndex } from '../../engine/osinfo/os-index.ts'
import { repoRoot } from '../support/guest.ts'

let dir: string
const deps = (over: Partial<InspectDeps> = {}): InspectDeps => ({
  qemuImg: async () => 'qemu-img',
  osIndex: () => loadOsIndex({ cacheFile: join(dir, 'osinfo-index.json') }),
  hostCpus: 2,
  ...over,
})

/** A bzImage's first bytes: "HdrS" at 0x202 and a version string the header points at. */
function fakeKernel(version: string): Buffer {
  const b = Buffer.alloc(0x1000)
  b.write('HdrS', 0x202, 'latin1')
  b.writeUInt16LE(0x400 - 0x200, 0x20e)
  b.write(`${version} (builder@example.org) #1 SMP\0`, 0x400, 'latin1')
  return b
}

function mkisofs(name: string, args: string[]): string {
  const out = join(dir, name)
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', out, ...args], { stdio: 'ignore' })
  return out
}

let biosIso: string
let uefiIso: string
let plainIso: string
let rescueIso: string
let kernelIso: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-inspect-'))
  const tree = join(dir, 'tree')
  mkdirSync(join(tree, 'boot'), { recursive: true })
  writeFileSync(join(tree, 'boot', 'bios.img'), Buffer.alloc(2048))
  writeFileSync(join(tree, 'efi.img'), Buffer.alloc(64 * 1024))
  biosIso = mkisofs('bios.iso', [
    '-V',
    'BIOS_ONLY',
    '-b',
    'boot/bios.img',
    '-no-emul-boot',
    '-boot-load-size',
    '4',
    tree,
  ])
  uefiIso = mkisofs('uefi.iso', ['-V', 'UEFI_ONLY', '-e', 'efi.img', '-no-emul-boot', tree])
  plainIso = mkisofs('plain.iso', ['-V', 'Debian 12.5.0 amd64 n', tree])
  const withKernel = join(dir, 'kernel-tree')
  mkdirSync(join(withKernel, 'boot'), { recursive: true })
  writeFileSync(join(withKernel, 'boot', 'vmlinuz'), fakeKernel('6.1.0-99-amd64'))
  kernelIso = mkisofs('kernel.iso', ['-V', 'SOME_LIVE_CD', '-R', withKernel])
  // GRUB's own ISO for BIOS and UEFI, hybrid, with the volume id of a Debian 11 netinst CD.
  const empty = join(dir, 'empty')
  mkdirSync(empty)
  rescueIso = join(dir, 'rescue.iso')
  execFileSync('grub-mkrescue', ['-o', rescueIso, empty, '--', '-volid', 'Debian 11.5.0 amd64 n'], {
    stdio: 'ignore',
  })
}, 120_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ISO 9660 and El Torito', () => {
  it('reads a BIOS-only CD: volume id, one BIOS entry, no MBR', async () => {
    const i = await inspectImageFile(biosIso, deps())
    expect(i.kind).toBe('iso')
    expect(i.iso).toEqual({ volumeId: 'BIOS_ONLY', bootable: { bios: true, uefi: false }, hybrid: false })
    expect(i.recommended.firmware).toMatchObject({
      value: 'bios',
      reason: expect.stringMatching(/only a BIOS/),
    })
  })

  it('reads a UEFI-only CD and recommends UEFI with at least 512 MiB, saying why', async () => {
    const i = await inspectImageFile(uefiIso, deps())
    expect(i.iso?.bootable).toEqual({ bios: false, uefi: true })
    expect(i.recommended.firmware).toMatchObject({
      value: 'uefi',
      reason: expect.stringMatching(/only a UEFI/),
    })
    expect(i.recommended.memoryMiB.value).toBeGreaterThanOrEqual(512)
  })

  it('reads grub-mkrescue output as bootable by BIOS and UEFI, hybrid, and matches its volume id in osinfo-db', async () => {
    const i = await inspectImageFile(rescueIso, deps())
    expect(i.iso).toEqual({
      volumeId: 'Debian 11.5.0 amd64 n',
      bootable: { bios: true, uefi: true },
      hybrid: true,
    })
    expect(i.os).toMatchObject({ id: 'debian11', source: 'osinfo-db' })
    expect(i.os?.evidence).toMatch(/volume id "Debian 11\.5\.0 amd64 n" matches/)
    expect(i.recommended.nic.value).toBe('virtio-net')
    expect(i.recommended.diskBus.value).toBe('virtio-blk')
    expect(i.recommended.firmware.value).toBe('bios')
    expect(i.recommended.diskSize.value).toBe('20G')
  })

  it('says a CD without a boot catalog cannot boot', async () => {
    const i = await inspectImageFile(plainIso, deps())
    expect(i.iso?.bootable).toEqual({ bios: false, uefi: false })
    expect(i.warnings.join('\n')).toMatch(/no El Torito boot entry/)
  })

  it('refuses a truncated ISO in words', async () => {
    const cut = join(dir, 'cut.iso')
    copyFileSync(rescueIso, cut)
    truncateSync(cut, 3 * 1024 * 1024)
    await expect(inspectImageFile(cut, deps())).rejects.toThrow(
      /cut\.iso is truncated: the ISO's volume is \d+ bytes, but the file holds only 3145728/,
    )
    truncateSync(cut, 20_000)
    await expect(inspectImageFile(cut, deps())).rejects.toThrow(/truncated or not an ISO/)
  })

  it('finds a Linux kernel on a CD whose volume id says nothing', async () => {
    const i = await inspectImageFile(kernelIso, deps())
    expect(i.os).toMatchObject({ id: 'linux', source: 'built-in' })
    expect(i.os?.evidence).toBe('a Linux kernel at /boot/vmlinuz on the CD, version 6.1.0-99-amd64')
    expect(i.recommended.nic.value).toBe('virtio-net')
  })
})

describe('other kinds of files', () => {
  it('recognises a bzImage kernel, and needs no disk for it', async () => {
    const k = join(dir, 'vmlinuz')
    writeFileSync(k, fakeKernel('6.1.0-18-amd64'))
    const i = await inspectImageFile(k, deps())
    expect(i.kind).toBe('kernel')
    expect(i.os?.name).toBe('Linux 6.1.0-18-amd64')
    expect(i.recommended.diskSize.value).toBeNull()
    expect(parseLinuxKernel(Buffer.alloc(0x1000))).toBeNull()
  })

  it('reads a qcow2 through qemu-img, and refuses a broken qcow2 header as existing-disk does', async () => {
    const good = join(dir, 'good.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', good, '64M'])
    const i = await inspectImageFile(good, deps())
    expect(i.kind).toBe('disk')
    expect(i.disk).toEqual({
      format: 'qcow2',
      virtualSize: 64 * 2 ** 20,
      backingFile: null,
      chain: [{ path: good, role: 'image', format: 'qcow2' }],
    })
    expect(i.recommended.diskSize.value).toBeNull()
    const bad = join(dir, 'bad.qcow2')
    writeFileSync(bad, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(1 << 20, 0xff)]))
    await expect(inspectImageFile(bad, deps())).rejects.toThrow(/header is broken|not a disk image/)
  })

  it('takes an .ova tar and an .ovf descriptor as appliances, with their hardware, and refuses an .ova that is no tar', async () => {
    const ovf = join(dir, 'box.ovf')
    copyFileSync(join(repoRoot, 'test', 'fixtures', 'ovf', 'virtualbox7.ovf'), ovf)
    expect((await inspectImageFile(ovf, deps())).kind).toBe('appliance')
    const ova = join(dir, 'box.ova')
    execFileSync('tar', ['-cf', ova, '-C', dir, 'box.ovf'])
    const i = await inspectImageFile(ova, deps())
    expect(i).toMatchObject({
      kind: 'appliance',
      appliance: { name: 'debian-box', cpus: 2, memoryMiB: 2048, firmware: 'uefi' },
      recommended: {
        memoryMiB: { value: 2048, reason: "as the appliance's descriptor says" },
        firmware: { value: 'uefi' },
        nic: { value: 'e1000' },
        diskSize: { value: null },
      },
    })
    const empty = join(dir, 'empty.ovf')
    writeFileSync(empty, '<?xml version="1.0"?><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>')
    await expect(inspectImageFile(empty, deps())).rejects.toThrow()
    const fake = join(dir, 'fake.ova')
    writeFileSync(fake, 'not a tar'.repeat(100))
    await expect(inspectImageFile(fake, deps())).rejects.toThrow(/not a tar archive/)
  })

  it('refuses a relative or missing path', async () => {
    await expect(inspectImageFile('disk.iso', deps())).rejects.toThrow(/must be absolute/)
    await expect(inspectImageFile(join(dir, 'missing.iso'), deps())).rejects.toThrow(/does not exist/)
  })
})

describe('osinfo-db', () => {
  it('builds its index cold, then reads it from the cache file, then from memory', () => {
    const cacheFile = join(dir, 'timing-index.json')
    forgetOsIndex()
    let t = performance.now()
    const cold = loadOsIndex({ cacheFile })
    const coldMs = performance.now() - t
    forgetOsIndex()
    t = performance.now()
    const warm = loadOsIndex({ cacheFile })
    const warmMs = performance.now() - t
    t = performance.now()
    const held = loadOsIndex({ cacheFile })
    const memoryMs = performance.now() - t
    console.log(
      `osinfo-db ${cold.version}: ${cold.osinfo.length} OSes; index built in ${coldMs.toFixed(0)} ms, from the cache file ${warmMs.toFixed(0)} ms, from memory ${memoryMs.toFixed(1)} ms`,
    )
    expect([cold.loadedFrom, warm.loadedFrom, held.loadedFrom]).toEqual(['built', 'cache', 'memory'])
    expect(warm.osinfo).toEqual(cold.osinfo)
    expect(cold.osinfo.length).toBeGreaterThan(500)
    expect(warmMs).toBeLessThan(coldMs)
  })

  it('resolves virtio drivers and firmware through derives-from and upgrades', () => {
    const byId = new Map(loadOsIndex().osinfo.map((o) => [o.id, o]))
    // debian11 lists only virtio-gpu and -fs itself; net and blk come from debian10 → … → debian5/9.
    expect(byId.get('debian11')?.virtio).toEqual({ net: true, blk: true })
    expect(byId.get('win10')?.virtio).toEqual({ net: false, blk: false })
    expect(byId.get('winxp')?.virtio).toEqual({ net: false, blk: false })
    expect(byId.get('win11')?.firmware).toEqual({ uefi: true, bios: false })
    expect(byId.get('win11')?.minimum.ramMiB).toBe(4096)
  })

  it('falls back to the built-in table without osinfo-db, and for releases newer than it', async () => {
    const none = loadOsIndex({ osinfoDir: join(dir, 'no-osinfo') })
    expect(none.loadedFrom).toBe('absent')
    // Debian's osinfo-db of 2022 has no Debian 12; the built-in table has.
    const i = await inspectImageFile(plainIso, deps())
    expect(i.os).toMatchObject({ id: 'debian12', source: 'built-in' })
    const without = await inspectImageFile(rescueIso, deps({ osIndex: () => none }))
    expect(without.os).toMatchObject({ id: 'debian11', source: 'built-in' })
  })
})

describe('recommendations', () => {
  const os = (id: string) => {
    const found = loadOsIndex().osinfo.find((o) => o.id === id)
    if (!found) throw new Error(`osinfo-db has no ${id}`)
    return found
  }

  it('gives a virtio OS paravirtual devices and an OS without virtio drivers emulated ones, with reasons', async () => {
    const { recommend } = await import('../../engine/images/recommend.ts')
    const cd = { kind: 'iso' as const, bootable: { bios: true, uefi: true } }
    const debian = recommend(os('debian11'), cd, { cpus: 2 })
    expect(debian.nic).toEqual({
      value: 'virtio-net',
      reason: expect.stringMatching(/Debian 11 has a virtio-net driver/),
    })
    expect(debian.diskBus.value).toBe('virtio-blk')
    expect(debian.memoryMiB.value).toBe(1024)

    const win10 = recommend(os('win10'), cd, { cpus: 2 })
    expect(win10.nic).toEqual({
      value: 'e1000',
      reason: expect.stringMatching(/no virtio-net driver of its own/),
    })
    expect(win10.diskBus).toEqual({ value: 'sata', reason: expect.stringMatching(/SATA \(AHCI\)/) })
    // osinfo-db's x86_64 minimum (2 GiB) is above the recommendation it inherits (1 GiB).
    expect(win10.memoryMiB).toEqual({ value: 2048, reason: expect.stringMatching(/the least/) })

    const xp = recommend(os('winxp'), cd, { cpus: 2 })
    expect(xp.diskBus).toEqual({ value: 'ide', reason: expect.stringMatching(/predates AHCI/) })

    const win11 = recommend(os('win11'), cd, { cpus: 2 })
    expect(win11.firmware).toEqual({ value: 'uefi', reason: expect.stringMatching(/boots only with UEFI/) })
    expect(win11.cpus.value).toBe(2)
  })

  it('raises a small OS to 512 MiB under UEFI, saying why', async () => {
    const { recommend } = await import('../../engine/images/recommend.ts')
    const r = recommend(os('freedos1.2'), { kind: 'iso', bootable: { bios: false, uefi: true } }, { cpus: 8 })
    expect(r.firmware.value).toBe('uefi')
    expect(r.memoryMiB).toEqual({
      value: 512,
      reason: expect.stringMatching(/GRUB under OVMF runs out of memory/),
    })
    expect(r.cpus.value).toBe(2)
  })

  it("takes a named OS's defaults for the same image, and refuses an OS it does not know", async () => {
    const i = await inspectImageFile(biosIso, deps())
    expect(adviceFor(i, undefined, deps())?.nic.value).toBe('e1000')
    const named = adviceFor(i, 'debian11', deps())
    expect(named?.nic.value).toBe('virtio-net')
    expect(named?.firmware.value).toBe('bios')
    expect(adviceFor(i, 'linux', deps())?.diskBus.value).toBe('virtio-blk')
    expect(() => adviceFor(i, 'debian99', deps())).toThrow(/Vireo knows no OS "debian99"/)
  })

  it('gives an unknown OS generic defaults whose reasons say so', async () => {
    const { recommend } = await import('../../engine/images/recommend.ts')
    const r = recommend(null, { kind: 'iso', bootable: { bios: true, uefi: false } }, { cpus: 2 })
    expect(r.memoryMiB.value).toBe(1024)
    expect(r.nic.value).toBe('e1000')
    expect(r.diskBus.value).toBe('sata')
    expect(r.diskSize.value).toBe('16G')
    for (const k of ['memoryMiB', 'diskSize', 'nic', 'diskBus'] as const)
      expect(r[k].reason).toMatch(/unknown/)
    expect(recommend(GENERIC_LINUX, { kind: 'kernel', bootable: null }, { cpus: 1 }).cpus.value).toBe(1)
  })
})
