// The VM library on disk: atomic writes, names, the owner lock.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VM_CONFIG_SCHEMA_VERSION, type VmConfigInput } from '../../engine/api/vm-config.ts'
import { DataDirLock } from '../../engine/host/lock.ts'
import { writeJsonAtomic } from '../../engine/util/atomic-file.ts'
import { VmLibrary } from '../../engine/vm/library.ts'
import { parseSize } from '../../engine/storage/size.ts'
import { explainQemuFailure } from '../../engine/qemu/qemu-errors.ts'

const tmp = () => mkdtempSync(join(tmpdir(), 'vireo-unit-'))

function config(name: string, id: string = crypto.randomUUID()): VmConfigInput {
  return {
    schemaVersion: VM_CONFIG_SCHEMA_VERSION,
    id,
    name,
    createdAt: new Date().toISOString(),
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    firmware: 'bios',
    cpus: 1,
    memoryMiB: 256,
  }
}

describe('VmLibrary', () => {
  it('keeps any name a user types, and finds VMs by name or UUID', () => {
    const lib = new VmLibrary(join(tmp(), 'vms'))
    lib.load()
    const weird = 'Ünïcode, "quotes", commas; and spaces'
    const rec = lib.add(config(weird))
    const again = new VmLibrary(lib.vmsDir)
    again.load()
    expect(again.resolve(weird).config.id).toBe(rec.config.id)
    expect(again.resolve(rec.config.id).config.name).toBe(weird)
    expect(again.resolve(weird.toUpperCase()).config.id).toBe(rec.config.id)
  })

  it('refuses a second VM with the same name, whatever the case', () => {
    const lib = new VmLibrary(join(tmp(), 'vms'))
    lib.load()
    lib.add(config('Alpha'))
    expect(() => lib.add(config('alpha'))).toThrow(/already exists/)
  })

  it('reports an unreadable vm.json instead of losing or deleting it', () => {
    const lib = new VmLibrary(join(tmp(), 'vms'))
    lib.load()
    const id = crypto.randomUUID()
    mkdirSync(join(lib.vmsDir, id))
    writeFileSync(join(lib.vmsDir, id, 'vm.json'), '{"schemaVersion": 1, "truncated')
    lib.load()
    expect(lib.list()).toEqual([])
    expect(lib.problems[0]?.message).toMatch(/cannot read/)
    expect(existsSync(join(lib.vmsDir, id, 'vm.json'))).toBe(true)
  })

  it('rejects blank names and control characters', () => {
    const lib = new VmLibrary(join(tmp(), 'vms'))
    lib.load()
    expect(() => lib.add(config('   '))).toThrow(/cannot be empty/)
    expect(() => lib.add(config('a\u0007b'))).toThrow(/control characters/)
  })
})

describe('atomic writes', () => {
  it('replaces the file whole and leaves no temporary behind', () => {
    const dir = tmp()
    const file = join(dir, 'vm.json')
    writeJsonAtomic(file, { a: 1 })
    writeJsonAtomic(file, { a: 2 })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ a: 2 })
    expect(readdirSync(dir)).toEqual(['vm.json'])
  })
})

describe('DataDirLock', () => {
  it('lets one owner in, and takes over a stale lock', () => {
    const file = join(tmp(), 'host.lock')
    const lock = DataDirLock.acquire(file)
    expect(() => DataDirLock.acquire(file)).toThrow(/already owns/)
    lock.release()
    writeFileSync(file, '999999999\n')
    const taken = DataDirLock.acquire(file)
    // The pid, and its start time (a pid reused later is not taken for the owner).
    expect(readFileSync(file, 'utf8').trim()).toMatch(new RegExp(`^${process.pid} \\d+$`))
    taken.release()
    expect(existsSync(file)).toBe(false)
  })

  it('refuses while a live process owns the dir', () => {
    const file = join(tmp(), 'host.lock')
    writeFileSync(file, `${process.ppid}\n`)
    expect(() => DataDirLock.acquire(file)).toThrow(/already owns/)
  })
})

describe('sizes', () => {
  it('reads the units users write', () => {
    expect(parseSize('8G')).toBe(8 * 2 ** 30)
    expect(parseSize('512M')).toBe(512 * 2 ** 20)
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30)
    expect(() => parseSize('lots')).toThrow(
      /a size is a number with an optional unit, e.g. 8G or 512M, not "lots"/,
    )
    expect(() => parseSize('10K')).toThrow(/at least 1 MiB/)
  })
})

describe('QEMU failures in plain words', () => {
  it('names a disk that another process holds', () => {
    const stderr =
      '2026-11-22T11:00:00.000000Z qemu-system-x86_64: -blockdev {"driver":"qcow2"}: Failed to get "write" lock\nIs another process using the image [/vms/a/disk0.qcow2]?\n'
    expect(explainQemuFailure(stderr, { code: 1, signal: null })).toMatch(
      /^the disk \/vms\/a\/disk0\.qcow2 is in use by another VM or program/,
    )
  })
  it('names a missing file', () => {
    const stderr =
      "qemu-system-x86_64: -blockdev x: Could not open '/isos/gone.iso': No such file or directory\n"
    expect(explainQemuFailure(stderr, { code: 1, signal: null })).toMatch(
      /^the file \/isos\/gone\.iso does not exist/,
    )
  })
  it('falls back to QEMU’s last line, or the exit', () => {
    expect(explainQemuFailure('qemu-system-x86_64: something odd\n', { code: 1, signal: null })).toBe(
      'QEMU stopped: something odd',
    )
    expect(explainQemuFailure('', { code: null, signal: 'SIGKILL' })).toBe('QEMU was killed by SIGKILL')
  })
})
