// What the CLI's options and arguments must hold, checked as commander reads them, so a mistake is
// refused naming the flag the user typed: an empty `--data-dir ''` or `--disk-size=` is an error,
// never a quiet default, and `--cpus 0x10` is not sixteen.
import { resolve } from 'node:path'
import { diskSizeProblem } from '../api/disk-size.ts'
import { VireoError } from '../api/errors.ts'
import type { PortForward } from '../api/vm-config.ts'
import { controlCharIn, quoted } from '../api/visible-text.ts'

function refuse(message: string): never {
  throw new VireoError('invalid_request', message)
}

/** The library folder: named, and without control characters (it names sockets and logs). */
export function dataDirOption(v: string): string {
  if (v.trim() === '') refuse('--data-dir must name a folder, not an empty string')
  const bad = controlCharIn(v)
  if (bad) refuse(`--data-dir ${quoted(v)} holds the control character ${bad}; name a folder without one`)
  return resolve(v)
}

/** A file path, made absolute against the CLI's working directory (the host has another). */
export const pathOf = (what: string) => (v: string) => {
  if (v.trim() === '') refuse(`${what} needs the path of a file, not an empty string`)
  return resolve(v)
}

/** A repeatable path option: each one given adds a path (`--allow-backing A --allow-backing B`). */
export const pathList =
  (what: string) =>
  (v: string, prev: string[] = []): string[] => [...prev, pathOf(what)(v)]

/** A whole number written as one: `4`, `-1`; never `0x10`, `1e3`, ` 4` or an empty string. */
export const int = (what: string) => (v: string) => {
  if (!/^-?\d{1,15}$/.test(v)) refuse(`${what} must be a whole number, not ${quoted(v)}`)
  return Number(v)
}

/** A disk size such as 20G, within the range every disk is held to. */
export const sizeOf = (what: string) => (v: string) => {
  if (v.trim() === '') refuse(`${what} needs a size such as 20G, not an empty string`)
  const problem = diskSizeProblem(v)
  if (problem) refuse(`${what}: ${problem}`)
  return v.trim()
}

/** `[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT`, e.g. 2222:22, udp:5353:53, 0.0.0.0:8080:80. */
export function portForward(v: string): PortForward {
  const m = /^(?:(tcp|udp):)?(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})$/.exec(v)
  const hostPort = Number(m?.[3])
  const guestPort = Number(m?.[4])
  if (!m || hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) {
    refuse(
      `--forward: ${quoted(v)} is not [tcp|udp:][HOST-ADDR:]HOST-PORT:GUEST-PORT (e.g. 2222:22 or udp:5353:53)`,
    )
  }
  return {
    protocol: (m[1] ?? 'tcp') as PortForward['protocol'],
    hostAddress: m[2] ?? '127.0.0.1',
    hostPort,
    guestPort,
  }
}

const BOOT_DEVICES = ['disk', 'cdrom', 'network']

/** `disk,cdrom`: known devices (the engine refuses one named twice, as at create). */
export function bootOrder(v: string): string[] {
  const list = v.split(',').map((d) => d.trim())
  const bad = list.find((d) => !BOOT_DEVICES.includes(d))
  if (bad !== undefined)
    refuse(`--boot: ${quoted(bad)} is not a boot device; name ${BOOT_DEVICES.join(', ')}`)
  return list
}

export const onOff = (flag: string) => (v: string) => {
  if (v !== 'on' && v !== 'off') refuse(`${flag} is on or off, not ${quoted(v)}`)
  return v === 'on'
}
