// The OVF 1.x descriptor of an exported VM, in the shape VMware's ovftool, VirtualBox and Vireo all
// read: RASD elements in schema order (alphabetical; ovftool validates it), disks by
// `ovf:/disk/ID`, streamOptimized VMDKs, firmware in vmw:Config. VirtualBox's vbox:Machine is not
// written: VirtualBox takes that section as the whole machine when present, so a partial one would
// lose the disks. Buses and cards OVF has no word for (virtio-blk, NVMe, rtl8139) go on a controller
// or card every hypervisor has, and exactly in Vireo's own optional section.
import type { VmConfig } from '../api/vm-config.ts'

export interface ExportedDisk {
  id: string
  /** The VMDK's name inside the OVA. */
  href: string
  fileBytes: number
  capacityBytes: number
}

const VMDK_STREAM = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized'

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  )
}

function item(fields: Record<string, string | number>, indent = '      '): string {
  const lines = Object.keys(fields)
    .sort()
    .map((k) => `${indent}  <rasd:${k}>${escapeXml(String(fields[k]))}</rasd:${k}>`)
  return `${indent}<Item>\n${lines.join('\n')}\n${indent}</Item>`
}

const NIC_SUBTYPE: Record<VmConfig['nics'][number]['model'], string> = {
  'virtio-net': 'virtio',
  e1000: 'E1000',
  e1000e: 'E1000e',
  vmxnet3: 'VmxNet3',
  rtl8139: 'E1000',
}

const VMW_BOOT: Record<VmConfig['bootOrder'][number], string> = {
  disk: 'hdd',
  cdrom: 'cdrom',
  network: 'ethernet',
}

export function writeDescriptor(config: VmConfig, disks: ExportedDisk[]): string {
  let instance = 0
  const next = () => ++instance
  const items: string[] = []
  items.push(
    item({
      AllocationUnits: 'hertz * 10^6',
      Description: 'Number of Virtual CPUs',
      ElementName: `${config.cpus} virtual CPU(s)`,
      InstanceID: next(),
      ResourceType: 3,
      VirtualQuantity: config.cpus,
    }),
  )
  items.push(
    item({
      AllocationUnits: 'byte * 2^20',
      Description: 'Memory Size',
      ElementName: `${config.memoryMiB} MB of memory`,
      InstanceID: next(),
      ResourceType: 4,
      VirtualQuantity: config.memoryMiB,
    }),
  )
  // One controller per kind in use: IDE (PIIX4) or SATA (AHCI). Every bus but IDE is exported on SATA.
  const onIde = (bus: string) => bus === 'ide'
  const needIde = config.disks.some((d) => onIde(d.bus)) || config.cdroms.some((c) => onIde(c.bus))
  const needSata = config.disks.some((d) => !onIde(d.bus)) || config.cdroms.some((c) => !onIde(c.bus))
  const ide = needIde ? next() : 0
  if (needIde) {
    items.push(
      item({
        Description: 'IDE Controller',
        ElementName: 'ideController0',
        InstanceID: ide,
        ResourceSubType: 'PIIX4',
        ResourceType: 5,
      }),
    )
  }
  const sata = needSata ? next() : 0
  if (needSata) {
    items.push(
      item({
        Description: 'SATA Controller',
        ElementName: 'sataController0',
        InstanceID: sata,
        ResourceSubType: 'AHCI',
        ResourceType: 20,
      }),
    )
  }
  const port = { ide: 0, sata: 0 }
  const slot = (bus: string) => {
    const kind = onIde(bus) ? 'ide' : 'sata'
    return { Parent: kind === 'ide' ? ide : sata, AddressOnParent: port[kind]++ }
  }
  for (const d of disks) {
    const disk = config.disks.find((x) => x.id === d.id)!
    items.push(
      item({
        ...slot(disk.bus),
        ElementName: d.id,
        HostResource: `ovf:/disk/${d.id}`,
        InstanceID: next(),
        ResourceType: 17,
      }),
    )
  }
  for (const cd of config.cdroms) {
    items.push(
      item({
        ...slot(cd.bus),
        AutomaticAllocation: 'false',
        ElementName: cd.id,
        InstanceID: next(),
        ResourceType: 15,
      }),
    )
  }
  for (const [i, nic] of config.nics.entries()) {
    items.push(
      item({
        Address: nic.mac,
        AddressOnParent: i,
        AutomaticAllocation: 'true',
        Connection: 'nat',
        ElementName: nic.id,
        InstanceID: next(),
        ResourceSubType: NIC_SUBTYPE[nic.model],
        ResourceType: 10,
      }),
    )
  }
  const name = escapeXml(config.name)
  const vireo = [
    `    <vireo:VireoHardware ovf:required="false" vireo:bootOrder="${config.bootOrder.join(',')}">`,
    "      <Info>Vireo's exact buses and card models, for an import by Vireo</Info>",
    ...config.disks.map((d) => `      <vireo:Disk vireo:id="${escapeXml(d.id)}" vireo:bus="${d.bus}"/>`),
    ...config.nics.map((n) => `      <vireo:Nic vireo:model="${n.model}"/>`),
    '    </vireo:VireoHardware>',
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Envelope vmw:buildId="vireo" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vireo="urn:vireo:ovf:1">',
    '  <References>',
    ...disks.map(
      (d) => `    <File ovf:href="${escapeXml(d.href)}" ovf:id="file-${d.id}" ovf:size="${d.fileBytes}"/>`,
    ),
    '  </References>',
    '  <DiskSection>',
    '    <Info>Virtual disk information</Info>',
    ...disks.map(
      (d) =>
        `    <Disk ovf:capacity="${d.capacityBytes}" ovf:capacityAllocationUnits="byte" ovf:diskId="${d.id}" ovf:fileRef="file-${d.id}" ovf:format="${VMDK_STREAM}"/>`,
    ),
    '  </DiskSection>',
    '  <NetworkSection>',
    '    <Info>The list of logical networks</Info>',
    '    <Network ovf:name="nat">',
    '      <Description>NAT</Description>',
    '    </Network>',
    '  </NetworkSection>',
    `  <VirtualSystem ovf:id="${name}">`,
    '    <Info>A virtual machine exported by Vireo</Info>',
    `    <Name>${name}</Name>`,
    '    <OperatingSystemSection ovf:id="1">',
    '      <Info>The guest operating system</Info>',
    `      <Description>${escapeXml(config.os ?? 'Other')}</Description>`,
    '    </OperatingSystemSection>',
    '    <VirtualHardwareSection>',
    '      <Info>Virtual hardware requirements</Info>',
    '      <System>',
    '        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>',
    '        <vssd:InstanceID>0</vssd:InstanceID>',
    `        <vssd:VirtualSystemIdentifier>${name}</vssd:VirtualSystemIdentifier>`,
    '        <vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>',
    '      </System>',
    ...items,
    `      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="${config.firmware === 'uefi' ? 'efi' : 'bios'}"/>`,
    `      <vmw:ExtraConfig ovf:required="false" vmw:key="bios.bootOrder" vmw:value="${config.bootOrder.map((d) => VMW_BOOT[d]).join(',')}"/>`,
    '    </VirtualHardwareSection>',
    ...vireo,
    '  </VirtualSystem>',
    '</Envelope>',
    '',
  ].join('\n')
}
