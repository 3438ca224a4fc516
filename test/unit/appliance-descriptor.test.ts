// OVF descriptors as VirtualBox 7, VMware (ovftool), oVirt and an OVF 2.0 producer write them,
// mapped to Vireo's hardware; units, manifests and the limits an appliance may not pass.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDescriptor } from '../../engine/appliance/descriptor.ts'
import { busForController, nicModel, normalizeMac } from '../../engine/appliance/hardware-map.ts'
import { checkLimits } from '../../engine/appliance/limits.ts'
import { parseManifest, verifyDigest } from '../../engine/appliance/manifest.ts'
import { safeEntryName, safeHref } from '../../engine/appliance/tar-paths.ts'
import { bytesPerUnit } from '../../engine/appliance/units.ts'
import { uniqueName } from '../../engine/appliance/unique-name.ts'
import { writeDescriptor } from '../../engine/appliance/ovf-writer.ts'
import { VM_CONFIG_SCHEMA_VERSION, VmConfig } from '../../engine/api/vm-config.ts'
import { repoRoot } from '../support/guest.ts'

const fixture = (name: string) => readFileSync(join(repoRoot, 'test', 'fixtures', 'ovf', name), 'utf8')

describe('OVF descriptors from the wild', () => {
  it('VirtualBox 7: MegaBytes, SATA as ResourceType 20, firmware, chips and MACs from vbox:Machine', () => {
    const a = parseDescriptor(fixture('virtualbox7.ovf'))
    expect(a).toMatchObject({
      name: 'debian-box',
      os: 'Debian_64',
      cpus: 2,
      memoryMiB: 2048,
      firmware: 'uefi',
    })
    expect(a.disks).toEqual([
      {
        diskId: 'vmdisk1',
        file: expect.objectContaining({ href: 'debian-box-disk001.vmdk' }),
        capacityBytes: 20 * 2 ** 30,
        bus: 'sata',
      },
    ])
    // The disabled third adapter is not a card.
    expect(a.nics).toEqual([
      { model: 'e1000', mac: '08:00:27:a1:b2:c3' },
      { model: 'virtio-net', mac: '08:00:27:d4:e5:f6' },
    ])
    expect(a.bootOrder).toEqual(['disk', 'cdrom'])
    const dvdFirst = fixture('virtualbox7.ovf')
      .replace('position="1" device="HardDisk"', 'position="1" device="DVD"')
      .replace('position="2" device="DVD"', 'position="2" device="HardDisk"')
    expect(parseDescriptor(dvdFirst).bootOrder).toEqual(['cdrom', 'disk'])
  })

  it('VMware ovftool: byte * 2^30 capacities, LSI Logic to SATA, vmw:Config firmware, files by fileRef', () => {
    const a = parseDescriptor(fixture('vmware-ovftool.ovf'))
    expect(a).toMatchObject({
      name: 'Photon OS',
      os: 'vmwarePhoton64Guest',
      cpus: 4,
      memoryMiB: 4096,
      firmware: 'uefi',
    })
    // References lists file2 first: disks follow fileRef, never the order of the files.
    expect(a.disks.map((d) => [d.diskId, d.file?.href, d.capacityBytes, d.bus])).toEqual([
      ['vmdisk1', 'Photon-disk1.vmdk', 16 * 2 ** 30, 'sata'],
      ['vmdisk2', 'Photon-disk2.vmdk', 2 ** 30, 'sata'],
    ])
    expect(a.disks[0]!.file!.chunkSize).toBe(134217728)
    expect(a.nics).toEqual([
      { model: 'vmxnet3', mac: '00:0c:29:3e:4f:5a' },
      { model: 'e1000e', mac: null },
      { model: 'e1000', mac: null },
    ])
    expect(a.bootOrder).toEqual(['cdrom', 'disk'])
  })

  it('oVirt: trailing-slash namespace, xsi:typed sections, images by group/image, RT 20 as video', () => {
    const a = parseDescriptor(fixture('ovirt.ovf'))
    expect(a).toMatchObject({
      name: 'fedora-server',
      os: 'other_linux',
      cpus: 2,
      memoryMiB: 3072,
      firmware: 'bios',
    })
    expect(a.disks).toHaveLength(1)
    expect(a.disks[0]).toMatchObject({ capacityBytes: 10 * 2 ** 30, bus: 'virtio-blk' })
    expect(a.disks[0]!.file!.href).toBe(
      '6e2b2f0c-1b3f-4b8a-9c0e-2f5d1c7a9e10/0b7e1a2c-3d4f-4e5a-8b9c-0d1e2f3a4b5c',
    )
    expect(a.nics).toEqual([{ model: 'virtio-net', mac: '56:6f:4a:16:01:51' }])
  })

  it('OVF 2.0: StorageItem, EthernetPortItem, the default deployment option, gzip files', () => {
    const a = parseDescriptor(fixture('ovf2.ovf'))
    expect(a).toMatchObject({ name: 'Router appliance', cpus: 2, memoryMiB: 4096, firmware: 'bios' })
    expect(a.disks[0]).toMatchObject({ diskId: 'root', capacityBytes: 8 * 2 ** 30, bus: 'virtio-scsi' })
    expect(a.disks[0]!.file).toMatchObject({ href: 'images/root.qcow2.gz', compression: 'gzip' })
    // A multicast MAC is no card's address: the card gets a new one at import.
    expect(a.nics).toEqual([
      { model: 'virtio-net', mac: '52:54:00:ab:cd:ef' },
      { model: 'e1000', mac: null },
    ])
  })

  it('picks the first configuration when none is the default', () => {
    const a = parseDescriptor(fixture('ovf2.ovf').replace(' ovf:default="true"', ''))
    expect(a.memoryMiB).toBe(1024)
  })

  it('reads back what Vireo exports, buses and cards included', () => {
    const config = VmConfig.parse({
      schemaVersion: VM_CONFIG_SCHEMA_VERSION,
      id: crypto.randomUUID(),
      name: 'Tom & "Jerry" <1>',
      createdAt: new Date().toISOString(),
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'uefi',
      cpus: 3,
      memoryMiB: 768,
      disks: [
        { id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'A1' },
        { id: 'disk1', path: 'disks/disk1.qcow2', format: 'qcow2', bus: 'ide', serial: 'A2' },
      ],
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [
        { id: 'net0', model: 'rtl8139', mac: '52:54:00:12:34:56', network: { mode: 'nat' } },
        { id: 'net1', model: 'vmxnet3', mac: '52:54:00:12:34:57', network: { mode: 'none' } },
      ],
      bootOrder: ['network', 'disk'],
    })
    const xml = writeDescriptor(config, [
      { id: 'disk0', href: 'a-disk1.vmdk', fileBytes: 100, capacityBytes: 2 ** 30 },
      { id: 'disk1', href: 'a-disk2.vmdk', fileBytes: 100, capacityBytes: 2 ** 20 },
    ])
    const a = parseDescriptor(xml)
    expect(a).toMatchObject({
      name: 'Tom & "Jerry" <1>',
      cpus: 3,
      memoryMiB: 768,
      firmware: 'uefi',
      bootOrder: ['network', 'disk'],
    })
    expect(a.disks.map((d) => [d.diskId, d.bus, d.capacityBytes, d.file?.href])).toEqual([
      ['disk0', 'virtio-blk', 2 ** 30, 'a-disk1.vmdk'],
      ['disk1', 'ide', 2 ** 20, 'a-disk2.vmdk'],
    ])
    expect(a.nics).toEqual([
      { model: 'rtl8139', mac: '52:54:00:12:34:56' },
      { model: 'vmxnet3', mac: '52:54:00:12:34:57' },
    ])
    // Without Vireo's own section (another hypervisor's view) the portable choices remain.
    const foreign = parseDescriptor(xml.replace(/<vireo:VireoHardware[\s\S]*<\/vireo:VireoHardware>/, ''))
    expect(foreign.disks.map((d) => d.bus)).toEqual(['sata', 'ide'])
    expect(foreign.nics.map((n) => n.model)).toEqual(['e1000', 'vmxnet3'])
    expect(foreign.bootOrder).toEqual(['network', 'disk'])
  })

  it('refuses what is no OVF: another namespace, a DOCTYPE, two virtual systems, a dangling disk', () => {
    const vbox = fixture('virtualbox7.ovf')
    expect(() =>
      parseDescriptor(vbox.replaceAll('schemas.dmtf.org/ovf/envelope/1', 'example.com/x')),
    ).toThrow(/not an OVF envelope/)
    expect(() =>
      parseDescriptor(
        vbox.replace('<?xml version="1.0"?>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'),
      ),
    ).toThrow(/DOCTYPE/)
    const two = vbox.replace(
      /<VirtualSystem [\s\S]*<\/VirtualSystem>/,
      (vs) => `<VirtualSystemCollection ovf:id="c">${vs}${vs}</VirtualSystemCollection>`,
    )
    expect(() => parseDescriptor(two)).toThrow(/2 virtual systems/)
    expect(() => parseDescriptor(vbox.replace('/disk/vmdisk1', '/disk/nope'))).toThrow(/names no Disk/)
    expect(() => parseDescriptor(vbox.replace('ovf:fileRef="file1"', 'ovf:fileRef="file9"'))).toThrow(
      /References does not list/,
    )
  })
})

describe('units, subtypes and MACs', () => {
  it('reads every spelling of a unit producers use', () => {
    for (const [u, n] of [
      ['byte * 2^20', 2 ** 20],
      ['byte * 2 ^ 20', 2 ** 20],
      ['byte*2^30', 2 ** 30],
      ['bytes * 1024', 1024],
      ['MegaBytes', 2 ** 20],
      ['GigaBytes', 2 ** 30],
      ['byte', 1],
    ] as const) {
      expect(bytesPerUnit(u, 'x')).toBe(n)
    }
    expect(() => bytesPerUnit('furlongs', 'the memory size')).toThrow(/the memory size: the unit "furlongs"/)
  })

  it('maps controllers to what the guest can boot from, in any case and as lists', () => {
    expect(busForController(5, 'PIIX4')).toBe('ide')
    expect(busForController(6, 'buslogic,lsilogic')).toBe('sata')
    expect(busForController(6, 'VirtualSCSI')).toBe('sata')
    expect(busForController(6, 'VirtioSCSI')).toBe('virtio-scsi')
    expect(busForController(20, 'vmware.nvme.controller')).toBe('nvme')
    expect(busForController(20, 'AHCI')).toBe('sata')
    expect(nicModel('vmxnet3')).toBe('vmxnet3')
    expect(nicModel('VmxNet3')).toBe('vmxnet3')
    expect(nicModel('E1000E')).toBe('e1000e')
    expect(nicModel('PCNet32')).toBe('e1000')
    expect(nicModel('VmxNet2')).toBe('e1000')
    expect(nicModel('virtio')).toBe('virtio-net')
    expect(normalizeMac('080027AABBCC')).toBe('08:00:27:aa:bb:cc')
    expect(normalizeMac('01:00:5e:00:00:01')).toBeNull()
    expect(normalizeMac('zz')).toBeNull()
  })

  it('makes an appliance name unique, and cleans it', () => {
    const taken = new Set(['Box', 'Box (2)'])
    expect(uniqueName('Box', (n) => !taken.has(n))).toBe('Box (3)')
    expect(uniqueName('a\u0007b', () => true)).toBe('a b')
  })
})

describe('manifests', () => {
  const sha1 = 'a'.repeat(40)
  const sha256 = 'b'.repeat(64)
  it('reads SHA1(file)= hex, SHA256(file)= hex and SHA1 (file) = hex', () => {
    const m = parseManifest(
      `SHA1(a.ovf)= ${sha1}\nSHA256(b.vmdk)= ${sha256.toUpperCase()}\r\nSHA1 (c d.vmdk) = ${sha1}\n`,
      'x',
    )
    expect([...m.entries()]).toEqual([
      ['a.ovf', { algorithm: 'sha1', hex: sha1 }],
      ['b.vmdk', { algorithm: 'sha256', hex: sha256 }],
      ['c d.vmdk', { algorithm: 'sha1', hex: sha1 }],
    ])
    expect(() => verifyDigest(m, 'b.vmdk', { sha256 })).not.toThrow()
    expect(() => verifyDigest(m, 'b.vmdk', { sha256: 'c'.repeat(64) })).toThrow(
      /does not match the appliance's manifest/,
    )
    expect(() => verifyDigest(m, 'other.vmdk', { sha256 })).toThrow(/does not list other.vmdk/)
    expect(() => parseManifest('MD5(a)= 00', 'the manifest')).toThrow(/line 1/)
  })
})

describe('names inside an appliance', () => {
  it('refuses absolute paths, .. and links, by name', () => {
    expect(safeEntryName('./vm/disk.vmdk', 'file')).toBe('vm/disk.vmdk')
    expect(() => safeEntryName('/etc/passwd', 'file')).toThrow(/"\/etc\/passwd" has an absolute path/)
    expect(() => safeEntryName('vm/../../x', 'file')).toThrow(/climbs out/)
    expect(() => safeEntryName('C:\\x', 'file')).toThrow(/absolute/)
    expect(() => safeEntryName('a\\..\\b', 'file')).toThrow(/climbs out/)
    expect(() => safeEntryName('disk.vmdk', 'symlink')).toThrow(/"disk.vmdk" is a symbolic link/)
    expect(() => safeEntryName('disk.vmdk', 'link')).toThrow(/hard link/)
    expect(() => safeEntryName('null', 'character-device')).toThrow(/character device/)
    expect(() => safeHref('http://example.com/disk.vmdk')).toThrow(/only files inside the appliance/)
  })
})

describe('limits', () => {
  const base = () => parseDescriptor(fixture('virtualbox7.ovf'))
  it('refuses absurd sizes in words', () => {
    expect(() => checkLimits({ ...base(), cpus: 65 })).toThrow(/asks for 65 CPUs; Vireo gives a VM 1 to 64/)
    expect(() => checkLimits({ ...base(), memoryMiB: 2 * 1024 * 1024 })).toThrow(/2097152 MiB of memory/)
    const a = base()
    a.disks[0]!.capacityBytes = 2 ** 50
    expect(() => checkLimits(a)).toThrow(/claims 1024.0 TiB; Vireo refuses disks over 64.0 TiB/)
    expect(() => checkLimits({ ...base(), nics: Array(9).fill({ model: 'e1000', mac: null }) })).toThrow(
      /9 network cards/,
    )
    expect(() => checkLimits(base())).not.toThrow()
  })
  it('reads absurd values from the descriptor itself and refuses them', () => {
    const huge = fixture('vmware-ovftool.ovf').replace('ovf:capacity="16"', 'ovf:capacity="1048576"')
    expect(() => checkLimits(parseDescriptor(huge))).toThrow(/claims 1024.0 TiB/)
    const mem = fixture('virtualbox7.ovf').replace(
      '<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>',
      '<rasd:VirtualQuantity>99999999999</rasd:VirtualQuantity>',
    )
    expect(() => checkLimits(parseDescriptor(mem))).toThrow(/MiB of memory/)
  })
})
