// Real boot images from Debian's packages, not made for Vireo: GRUB's rescue CD (grub-rescue-pc),
// iPXE's CD (ipxe) and the Debian installer's netboot kernel and initrd
// (debian-installer-12-netboot-amd64). For each, `vireo inspect` must say what it is and what boots
// it, and a VM made from it must reach the image's own first screen. SeaBIOS paints text before any
// of them, so "not blank" is not enough: each screen is told from the firmware's by what only that
// image draws (GRUB's highlighted menu bar, iPXE's coloured banner, the installer's blue dialog).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImageInspection, VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { decodePng, screenStats, type Pixels, type ScreenStats } from '../support/png.ts'

const GRUB_RESCUE = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso'
const IPXE = '/usr/lib/ipxe/ipxe.iso'
const NETBOOT = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64'
const NETBOOT_KERNEL = join(NETBOOT, 'linux')
const NETBOOT_INITRD = join(NETBOOT, 'initrd.gz')

for (const f of [GRUB_RESCUE, IPXE, NETBOOT_KERNEL, NETBOOT_INITRD]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run scripts/setup.sh (it installs the package)`)
}

let dataDir: string

beforeAll(() => {
  dataDir = tempDataDir()
})
afterAll(async () => {
  await cleanupDataDir(dataDir)
})

async function inspect(file: string): Promise<ImageInspection> {
  return JSON.parse(await vireoOk(dataDir, ['inspect', file, '--json'])) as ImageInspection
}

/** A pixel row at least this lit across the screen: a menu's highlight bar, which firmware text never draws. */
function hasBar(p: Pixels, background: number, share = 0.8): boolean {
  for (let y = 0; y < p.height; y++) {
    let lit = 0
    for (let x = 0; x < p.width; x++) {
      const i = (y * p.width + x) * 3
      if (((p.rgb[i]! << 16) | (p.rgb[i + 1]! << 8) | p.rgb[i + 2]!) !== background) lit++
    }
    if (lit >= p.width * share) return true
  }
  return false
}

/** Screenshots until `seen` says the image's own screen is there; the last one when it never is. */
async function waitForScreen(
  vm: string,
  seen: (s: ScreenStats, p: Pixels) => boolean,
  timeoutMs = 120_000,
): Promise<{ stats: ScreenStats; pixels: Pixels; ok: boolean }> {
  const file = join(dataDir, `${vm}.png`)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await vireoOk(dataDir, ['screenshot', vm, file])
    const pixels = decodePng(readFileSync(file))
    const stats = screenStats(pixels)
    if (seen(stats, pixels)) return { stats, pixels, ok: true }
    if (Date.now() > deadline) return { stats, pixels, ok: false }
    await new Promise((r) => setTimeout(r, 1000))
  }
}

/** Whatever screen it is: not blank, more than one colour, a fair share of it drawn. */
function expectNotBlank(s: ScreenStats): void {
  expect(s.colours).toBeGreaterThanOrEqual(2)
  expect(s.lit).toBeGreaterThan(0.01)
}

async function bootTo(name: string, create: string[], seen: (s: ScreenStats, p: Pixels) => boolean) {
  const vm = JSON.parse(await vireoOk(dataDir, ['create', name, ...create, '--json'])) as VmInfo
  await vireoOk(dataDir, ['start', name])
  try {
    const shot = await waitForScreen(name, seen)
    expectNotBlank(shot.stats)
    expect(
      shot.ok,
      `the screen never showed the image's own first screen: ${JSON.stringify(shot.stats)}`,
    ).toBe(true)
    return vm
  } finally {
    await vireo(dataDir, ['stop', name, '--force'])
  }
}

describe('third-party boot images from Debian packages', () => {
  it("GRUB's rescue CD: a BIOS-only hybrid ISO of unknown OS, booting to GRUB's menu", async () => {
    const i = await inspect(GRUB_RESCUE)
    expect(i.kind).toBe('iso')
    expect(i.iso).toEqual({ volumeId: 'ISOIMAGE', bootable: { bios: true, uefi: false }, hybrid: true })
    expect(i.os).toBeNull()
    expect(i.warnings.join('\n')).toMatch(/OS not recognised: volume id "ISOIMAGE" matches nothing/)
    expect(i.recommended.firmware).toEqual({ value: 'bios', reason: expect.stringMatching(/only a BIOS/) })
    expect(i.recommended.nic.value).toBe('e1000')
    expect(i.recommended.diskBus.value).toBe('sata')
    const human = await vireoOk(dataDir, ['inspect', GRUB_RESCUE])
    expect(human).toMatch(/Boot: +BIOS; hybrid/)
    expect(human).toMatch(/OS: +unknown/)

    const vm = await bootTo('grub rescue', ['--iso', GRUB_RESCUE, '--memory', '256'], (s, p) =>
      hasBar(p, s.background),
    )
    // What the user left open came from the inspection.
    expect(vm.config.firmware).toBe('bios')
    expect(vm.config.nics[0]?.model).toBe('e1000')
    expect(vm.config.os).toBeUndefined()
  })

  it("iPXE's CD: BIOS and UEFI, recognised by its application id, booting to iPXE's banner", async () => {
    const i = await inspect(IPXE)
    expect(i.iso).toEqual({ volumeId: 'ISOIMAGE', bootable: { bios: true, uefi: true }, hybrid: true })
    expect(i.os).toMatchObject({ id: 'ipxe', source: 'built-in' })
    expect(i.os?.evidence).toMatch(/application id "IPXE/)
    expect(i.recommended.firmware.value).toBe('bios')
    expect(i.recommended.nic.value).toBe('virtio-net')

    // SeaBIOS, ISOLINUX and the NIC's option ROM print in one grey; iPXE's own banner is in colour.
    const vm = await bootTo('ipxe', ['--iso', IPXE, '--memory', '256'], (s) => s.colours >= 3)
    expect(vm.config).toMatchObject({ os: 'ipxe', nics: [{ model: 'virtio-net' }] })
  })

  it("Debian's netboot installer: a Linux kernel booted directly, in place, to the installer's first dialog", async () => {
    const i = await inspect(NETBOOT_KERNEL)
    expect(i.kind).toBe('kernel')
    expect(i.iso).toBeNull()
    expect(i.os).toMatchObject({ id: 'linux', source: 'built-in' })
    expect(i.os?.evidence).toMatch(/^a Linux kernel, version 6\.1\.\d+-\d+-amd64$/)
    expect(i.recommended.diskSize.value).toBeNull()
    expect(i.recommended.nic.value).toBe('virtio-net')

    const vm = await bootTo(
      'netboot',
      ['--kernel', NETBOOT_KERNEL, '--initrd', NETBOOT_INITRD, '--cmdline', '--- quiet', '--memory', '512'],
      // The installer's newt screens: a blue (0x0000aa) background with a grey dialog on it.
      (s) => s.background === 0x0000aa && s.lit > 0.1 && s.colours >= 3,
    )
    // Used where they are: nothing copied into the VM's folder.
    expect(vm.config.directBoot).toEqual({
      kernel: NETBOOT_KERNEL,
      initrd: NETBOOT_INITRD,
      cmdline: '--- quiet',
    })
    expect(vm.config.disks).toEqual([])
    expect(vm.config.os).toBe('linux')
    const argv = JSON.parse(await vireoOk(dataDir, ['info', 'netboot', '--qemu-argv', '--json'])) as string[]
    expect(argv.slice(argv.indexOf('-kernel'), argv.indexOf('-kernel') + 6)).toEqual([
      '-kernel',
      NETBOOT_KERNEL,
      '-initrd',
      NETBOOT_INITRD,
      '-append',
      '--- quiet',
    ])
  })

  it('refuses a truncated ISO given to create, and an initrd without a kernel, in words', async () => {
    const { copyFileSync, truncateSync } = await import('node:fs')
    const cut = join(dataDir, 'cut.iso')
    copyFileSync(IPXE, cut)
    truncateSync(cut, 1024 * 1024)
    const r = await vireo(dataDir, ['create', 'cut', '--iso', cut])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(
      /cut\.iso is truncated: the ISO's volume is \d+ bytes, but the file holds only 1048576/,
    )
    const i = await vireo(dataDir, ['inspect', cut])
    expect(i.stderr).toMatch(/is truncated/)
    const typo = await vireo(dataDir, ['create', 'typo', '--iso', GRUB_RESCUE, '--os', 'debian99'])
    expect(typo.stderr).toMatch(/Vireo knows no OS "debian99"/)
    const orphan = await vireo(dataDir, ['create', 'orphan', '--initrd', NETBOOT_INITRD])
    expect(orphan.stderr).toMatch(/needs a kernel/)
    const names = (JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as { name: string }[]).map(
      (v) => v.name,
    )
    expect(names).not.toContain('cut')
    expect(names).not.toContain('orphan')
    expect(names).not.toContain('typo')
  })

  it('takes the OS the user names over the detected one, with its defaults', async () => {
    const vm = JSON.parse(
      await vireoOk(dataDir, ['create', 'named', '--iso', GRUB_RESCUE, '--os', 'debian11', '--json']),
    ) as VmInfo
    expect(vm.config).toMatchObject({ os: 'debian11', memoryMiB: 1024, nics: [{ model: 'virtio-net' }] })
    const info = await vireoOk(dataDir, ['info', 'named'])
    expect(info).toMatch(/OS: +debian11/)
  })
})
