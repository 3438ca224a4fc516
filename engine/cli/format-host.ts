// `vireo host status` as text. The accelerator line answers "will my VMs be accelerated, and why
// not" from the probe every host starts with, before any VM has run.
import type { HostInfo } from '../api/rpc.ts'
import { safe } from './plain-text.ts'

export function acceleratorLine(info: HostInfo): string {
  const probe = info.acceleratorProbe
  if (info.accelerator) return `Accelerator: ${safe(info.accelerator.reason)}`
  if (probe?.state === 'probing')
    return 'Accelerator: probing… (a test Linux kernel is booting to see whether hardware acceleration works)'
  if (probe?.state === 'failed') return `Accelerator: unknown, the probe failed: ${safe(probe.reason)}`
  // A host from before the probe ran at start-up: it probes at the first VM start.
  return 'Accelerator: not probed yet (this host probes when a VM first starts)'
}

export function formatHostStatus(info: HostInfo): string {
  return [
    `Vireo ${info.version} host, pid ${info.pid}, data dir ${safe(info.dataDir)}`,
    `Socket: ${safe(info.socketPath)}${info.url ? `, serving ${safe(info.url)}` : ''}`,
    `QEMU: ${info.qemu ? `${safe(info.qemu.version)} (${safe(info.qemu.binary)})` : 'not found'}`,
    acceleratorLine(info),
    `VMs: ${info.vms.total}, running ${info.vms.running}`,
  ].join('\n')
}
