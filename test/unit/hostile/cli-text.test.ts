// What the CLI prints for people, fed text a file, guest or image chose: every control, bidi and
// invisible character shows as a visible escape, no field forges a line, and the option values a
// user types are refused naming the flag (an empty --data-dir or --disk-size is an error).
import { describe, expect, it } from 'vitest'
import type { VmInfo } from '../../../engine/api/rpc.ts'
import { formatInfo, formatList } from '../../../engine/cli/output.ts'
import {
  bootOrder,
  dataDirOption,
  int,
  onOff,
  portForward,
  sizeOf,
} from '../../../engine/cli/option-values.ts'
import { safe, safeBlock, terminalCommandLine } from '../../../engine/cli/plain-text.ts'
import { formatSnapshotTree } from '../../../engine/cli/format-snapshots.ts'

describe('one field of plain output', () => {
  it.each<[string, string, string]>([
    ['ESC [2J (clear screen)', 'a\x1b[2Jb', 'a\\x1b[2Jb'],
    ['an OSC title', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['a newline', 'a\nForged: line', 'a\\nForged: line'],
    ['a carriage return', 'ok\rFAIL', 'ok\\rFAIL'],
    ['a tab', 'a\tb', 'a\\tb'],
    ['NUL', 'a\x00b', 'a\\x00b'],
    ['BEL', '\x07', '\\x07'],
    ['backspace', 'abc\x08\x08', 'abc\\x08\\x08'],
    ['DEL', '\x7f', '\\x7f'],
    ['NEL', '\x85', '\\x85'],
    ['CSI (C1)', '\x9b2J', '\\x9b2J'],
    ['zero-width space', 'a\u200bb', 'a\\u200bb'],
    ['right-to-left override', 'evil\u202etxt.exe', 'evil\\u202etxt.exe'],
    ['left-to-right isolate', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['byte order mark', '\ufeffname', '\\ufeffname'],
    ['soft hyphen', 'a\u00adb', 'a\\xadb'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
    ['paragraph separator', 'a\u2029b', 'a\\u2029b'],
    ['a lone surrogate', 'a\ud800b', 'a\\ud800b'],
    ['a language tag', 'a\u{e0001}b', 'a\\u{e0001}b'],
  ])('%s is escaped', (_what, text, shown) => {
    expect(safe(text)).toBe(shown)
  })

  it.each<[string, string]>([
    ['accents', 'Café résumé'],
    ['CJK', '仮想マシン'],
    ['an emoji with a variation selector', '❤️ box'],
    ['a combining mark', 'e\u0301'],
    ['a backslash', 'C:\\VMs\\x1b'],
  ])('%s stay as they are', (_what, text) => {
    expect(safe(text)).toBe(text)
  })

  it('a report keeps its own lines and escapes the rest', () => {
    expect(safeBlock('No errors.\n\x1b[31mred\x1b[0m\tok\n')).toBe('No errors.\n\\x1b[31mred\\x1b[0m\tok\n')
  })
})

const hostileVm = (): VmInfo => ({
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  kind: 'vm',
  name: 'evil\u202etxt.exe',
  state: 'stopped',
  os: 'linux\x1b[2J',
  cpus: 1,
  memoryMiB: 256,
  firmware: 'bios',
  dir: '/vms/a\nForged: line',
  runtime: null,
  lastError: 'QEMU said:\n\x1b[31mboom',
  lastExit: null,
  config: {
    schemaVersion: 1,
    id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    name: 'evil\u202etxt.exe',
    kind: 'qemu',
    createdAt: '2025-01-01T00:00:00.000Z',
    os: 'linux\x1b[2J',
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    firmware: 'bios',
    accelerator: 'tcg',
    cpus: 1,
    memoryMiB: 256,
    disks: [
      {
        id: 'disk0',
        path: '/d\x1b]0;x\x07.qcow2',
        format: 'qcow2',
        bus: 'virtio-blk',
        cache: 'writeback',
        discard: true,
        detectZeroes: 'off',
        readOnly: false,
        iothread: false,
        serial: 'S1',
      },
    ],
    cdroms: [{ id: 'cd0', path: '/iso/x\nNIC net9:   forged', bus: 'sata' }],
    nics: [],
    display: { adapter: 'std' },
    bootOrder: ['disk'],
    directBoot: { kernel: '/k\x9b', cmdline: 'console=ttyS0\n\x1b[2J' },
    rng: true,
    hotplugSlots: 4,
  },
})

describe('formatted output', () => {
  it('vireo info: no raw control character, no forged line', () => {
    const out = formatInfo(hostileVm())
    expect(out.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}]/u)
    expect(out.split('\n').filter((l) => /^(Forged|NIC net9)/.test(l))).toEqual([])
    expect(out).toContain('Name:        evil\\u202etxt.exe')
    expect(out).toContain('Folder:      /vms/a\\nForged: line')
    expect(out).toContain('CD cd0:    /iso/x\\nNIC net9:   forged (sata)')
  })

  it('vireo list: one line per VM', () => {
    const v = hostileVm()
    expect(formatList([{ ...v, name: 'a\nb\x1b[2J' }]).split('\n')).toHaveLength(2)
  })

  it('snapshot list: names and descriptions escaped', () => {
    const v = hostileVm()
    const out = formatSnapshotTree('vm\x1b[2J', {
      snapshots: [
        {
          id: 's1',
          name: 'snap\nForged',
          description: 'd\x1b[2J',
          createdAt: '2025-01-01T00:00:00.000Z',
          parent: null,
          kind: 'disk',
          config: v.config,
          thumbnail: null,
        },
      ],
      current: 's1',
      blockers: ['raw disk\x1b[1m'],
    })
    expect(out).not.toContain('\x1b')
    expect(out.split('\n')).toHaveLength(4)
  })

  it('info --qemu-argv: an argument with ESC is written in $-quoting, runnable and harmless', () => {
    expect(terminalCommandLine(['qemu', '-cdrom', "/x\x1b[2J'a.iso", '-name', 'plain'])).toBe(
      "qemu -cdrom $'/x\\x1b[2J\\'a.iso' -name plain",
    )
    expect(terminalCommandLine(['qemu', '-name', 'a\u202eb'])).toBe("qemu -name $'a\\u202eb'")
  })
})

describe('option values', () => {
  it.each<[string, () => unknown, string]>([
    ["--data-dir ''", () => dataDirOption(''), '--data-dir must name a folder, not an empty string'],
    [
      '--data-dir of spaces',
      () => dataDirOption('   '),
      '--data-dir must name a folder, not an empty string',
    ],
    [
      '--data-dir with a newline',
      () => dataDirOption('/tmp/a\nb'),
      '--data-dir "/tmp/a\\nb" holds the control character U+000A; name a folder without one',
    ],
    [
      '--data-dir with ESC',
      () => dataDirOption('/tmp/\x1b[2J'),
      '--data-dir "/tmp/\\x1b[2J" holds the control character U+001B; name a folder without one',
    ],
    ['--cpus 0x10', () => int('--cpus')('0x10'), '--cpus must be a whole number, not "0x10"'],
    ['--cpus 1e3', () => int('--cpus')('1e3'), '--cpus must be a whole number, not "1e3"'],
    ['--cpus " 4"', () => int('--cpus')(' 4'), '--cpus must be a whole number, not " 4"'],
    ["--cpus ''", () => int('--cpus')(''), '--cpus must be a whole number, not ""'],
    ['--memory 4.0', () => int('--memory')('4.0'), '--memory must be a whole number, not "4.0"'],
    [
      '--memory Infinity',
      () => int('--memory')('Infinity'),
      '--memory must be a whole number, not "Infinity"',
    ],
    [
      '--disk-size=',
      () => sizeOf('--disk-size')(''),
      '--disk-size needs a size such as 20G, not an empty string',
    ],
    [
      '--disk-size lots',
      () => sizeOf('--disk-size')('lots'),
      '--disk-size: a size is a number with an optional unit, e.g. 8G or 512M, not "lots"',
    ],
    ['--size 65T', () => sizeOf('--size')('65T'), '--size: a disk can be at most 64 TiB, not "65T"'],
    [
      '--forward 99999:22',
      () => portForward('99999:22'),
      '--forward: "99999:22" is not [tcp|udp:][HOST-ADDR:]HOST-PORT:GUEST-PORT (e.g. 2222:22 or udp:5353:53)',
    ],
    [
      '--forward sctp:22:22',
      () => portForward('sctp:22:22'),
      '--forward: "sctp:22:22" is not [tcp|udp:][HOST-ADDR:]HOST-PORT:GUEST-PORT (e.g. 2222:22 or udp:5353:53)',
    ],
    [
      '--forward with a port 0',
      () => portForward('tcp:1.2.3.4:0:22'),
      '--forward: "tcp:1.2.3.4:0:22" is not [tcp|udp:][HOST-ADDR:]HOST-PORT:GUEST-PORT (e.g. 2222:22 or udp:5353:53)',
    ],
    [
      '--boot disk,floppy',
      () => bootOrder('disk,floppy'),
      '--boot: "floppy" is not a boot device; name disk, cdrom, network',
    ],
    ['--discard yes', () => onOff('--discard')('yes'), '--discard is on or off, not "yes"'],
  ])('%s', (_what, parse, message) => {
    expect(parse).toThrow(expect.objectContaining({ code: 'invalid_request', message }))
  })
})
