// What the CLI prints: tables for people, exactly the engine/api response for scripts (--json),
// and errors as one sentence (or {error:{code,message}}) on stderr.
import { VireoError, type ErrorCode } from '../api/errors.ts'
import type { VmInfo, VmSummary } from '../api/rpc.ts'
import { safe } from './plain-text.ts'

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n')
}

export function formatList(vms: VmSummary[]): string {
  if (vms.length === 0) return 'No VMs yet. Create one with: vireo create NAME --iso PATH'
  return table([
    ['NAME', 'STATE', 'CPUS', 'MEMORY', 'ID'],
    ...vms.map((v) => [safe(v.name), v.state, String(v.cpus), `${v.memoryMiB} MiB`, safe(v.id)]),
  ])
}

export function formatInfo(vm: VmInfo): string {
  const c = vm.config
  const lines = [
    `Name:        ${safe(vm.name)}`,
    `ID:          ${safe(vm.id)}`,
    `State:       ${vm.state}${vm.runtime ? ` (pid ${vm.runtime.pid}, ${vm.runtime.accelerator})` : ''}`,
    `Machine:     ${safe(c.machine.version)}, ${c.firmware === 'uefi' ? 'UEFI' : 'BIOS'}`,
    `CPUs:        ${c.cpus}`,
    `Memory:      ${c.memoryMiB} MiB`,
    `Boot order:  ${c.bootOrder.join(', ')}`,
    ...(c.os ? [`OS:          ${safe(c.os)}`] : []),
    ...(c.directBoot
      ? [
          `Kernel:      ${safe(c.directBoot.kernel)}${c.directBoot.initrd ? ` (initrd ${safe(c.directBoot.initrd)})` : ''}${c.directBoot.cmdline ? `, command line "${safe(c.directBoot.cmdline)}"` : ''}`,
        ]
      : []),
    `Folder:      ${safe(vm.dir)}`,
  ]
  for (const d of c.disks) {
    const extras = [
      d.discard ? 'discard' : null,
      d.detectZeroes !== 'off' ? `detect-zeroes ${d.detectZeroes}` : null,
      d.readOnly ? 'read-only' : null,
      d.iothread ? 'I/O thread' : null,
    ].filter(Boolean)
    lines.push(
      `Disk ${safe(d.id)}:  ${safe(d.path)} (${[d.format, d.bus, `cache ${d.cache}`, ...extras].join(', ')})`,
    )
  }
  for (const cd of c.cdroms)
    lines.push(`CD ${safe(cd.id)}:    ${cd.path === null ? '(empty)' : safe(cd.path)} (${cd.bus})`)
  for (const n of c.nics) {
    const forwards =
      n.network.mode === 'nat' && n.network.portForwards.length > 0
        ? ` (${n.network.portForwards.map((f) => `${f.protocol} ${f.hostAddress}:${f.hostPort} → ${f.guestPort}`).join(', ')})`
        : ''
    const cable = n.linkUp ? '' : ', cable unplugged'
    const network =
      n.network.mode === 'internal'
        ? `internal:${safe(n.network.name)}${n.network.dhcp ? ` (DHCP ${n.network.dhcp.subnet})` : ''}`
        : n.network.mode
    lines.push(`NIC ${safe(n.id)}:   ${n.model}, ${safe(n.mac)}, ${network}${forwards}${cable}`)
  }
  if (vm.lastError) lines.push(`Last error:  ${safe(vm.lastError)}`)
  return lines.join('\n')
}

export function errorCode(err: unknown): ErrorCode {
  return err instanceof VireoError ? err.code : 'internal'
}

export function reportError(err: unknown, json: boolean): void {
  const message = err instanceof Error ? err.message : String(err)
  if (json) process.stderr.write(JSON.stringify({ error: { code: errorCode(err), message } }) + '\n')
  else process.stderr.write(`vireo: ${safe(message).replace(/\.?$/, '.')}\n`)
}
