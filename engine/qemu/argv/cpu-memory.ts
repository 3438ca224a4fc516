// vCPUs and RAM.
import type { VmConfig } from '../../api/vm-config.ts'

export function cpuMemoryArgs(config: VmConfig): string[] {
  return [
    // One socket with N cores: QEMU's default for a bare count is N sockets, and client editions of
    // Windows use at most two sockets, leaving the other vCPUs idle.
    '-smp',
    `cpus=${config.cpus},sockets=1,cores=${config.cpus},threads=1`,
    '-m',
    `${config.memoryMiB}M`,
  ]
}
