// The test guest as a VM the integration tests drive through the CLI: booted to its marker, made
// to count on its serial port, and made to write and read a sector of its virtio disk.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { guestSays, vireoOk } from './cli.ts'
import { GUEST_MARKER, requireTestGuest } from './guest.ts'

/** A counter on the serial port, once a second, in the background. */
export const COUNTER = '(i=0; while :; do echo COUNT-$i >/dev/ttyS0; i=$((i+1)); sleep 1; done) &'

/** A 256 MiB VM from the test ISO with a small disk, started and booted to its marker. */
export async function bootBox(
  dataDir: string,
  name: string,
  opts: { diskSize?: string; extra?: string[] } = {},
): Promise<void> {
  const guest = requireTestGuest()
  await vireoOk(dataDir, [
    'create',
    name,
    '--iso',
    guest.iso,
    '--memory',
    '256',
    '--disk-size',
    opts.diskSize ?? '32M',
    ...(opts.extra ?? []),
    '--json',
  ])
  await vireoOk(dataDir, ['start', name])
  await vireoOk(dataDir, ['console', name, '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
}

/** Every COUNT-n the guest printed since its QEMU started. */
export async function counts(dataDir: string, name: string): Promise<number[]> {
  const seen = await vireoOk(dataDir, ['console', name, '--expect', 'COUNT-\\d+\\r?\\n', '--timeout', '30'])
  return [...seen.matchAll(/COUNT-(\d+)/g)].map((m) => Number(m[1]))
}

/**
 * Writes 8 letters to the first sector of the guest's virtio disk (busybox has no mkfs). fsync, not
 * sync: only a flush makes QEMU write its qcow2 metadata, and a killed QEMU loses what was not flushed.
 */
export async function writeSector(dataDir: string, name: string, text: string): Promise<void> {
  await guestSays(
    dataDir,
    name,
    `echo ${text} | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; echo W-$((6*7))`,
    'W-42',
  )
}

export async function readSector(dataDir: string, name: string): Promise<string> {
  const out = await guestSays(dataDir, name, 'echo R-$(head -c 8 /dev/vda)-$((1+1))', 'R-[A-Z]{4}-[A-Z]{3}-2')
  return /R-([A-Z]{4}-[A-Z]{3})-2/.exec(out)![1]!
}

/** The VM folders of a data dir: what a failed migration must not leave behind. */
export function vmFolders(dataDir: string): string[] {
  const dir = join(dataDir, 'vms')
  return existsSync(dir) ? readdirSync(dir) : []
}
