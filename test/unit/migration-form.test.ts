// The migration wizard's and the Add host dialog's rules, and the words for progress and results:
// pure functions, so each rule is held here on its own.
import { describe, expect, it } from 'vitest'
import { JobId } from '../../engine/api/rpc.ts'
import type { MigrationProgress, MigrationResult } from '../../engine/api/migration.ts'
import {
  defaultMigrateForm,
  newMigrationJobId,
  sameOptions,
  validateMigrate,
  whyNotMovable,
  type MigrateForm,
} from '../../renderer/migration/migrate-form.ts'
import {
  failureText,
  formatBytes,
  formatDuration,
  formatRate,
  progressFraction,
  progressLines,
  resultLines,
  resultTitle,
} from '../../renderer/migration/progress-text.ts'
import {
  expiryText,
  formatPairCode,
  hostAddress,
  validateAddHost,
} from '../../renderer/remotes/remote-form.ts'

const VM = '11111111-1111-4111-8111-111111111111'
const running = { id: VM, state: 'running' as const }
const stopped = { id: VM, state: 'stopped' as const }
const form = (over: Partial<MigrateForm> = {}): MigrateForm => ({ ...defaultMigrateForm('running'), ...over })

describe('migration options', () => {
  it('defaults a running VM to a live move with 300 ms, auto-converge on and post-copy off', () => {
    expect(defaultMigrateForm('running')).toEqual({
      mode: 'live',
      copy: false,
      bandwidthMbps: '',
      maxDowntimeMs: '300',
      autoConverge: true,
      postcopy: false,
    })
    expect(defaultMigrateForm('paused').mode).toBe('live')
    expect(defaultMigrateForm('stopped').mode).toBe('offline')
    expect(validateMigrate(form(), running, 'lab2')).toEqual({
      errors: {},
      options: {
        vm: VM,
        to: 'lab2',
        offline: false,
        copy: false,
        maxDowntimeMs: 300,
        autoConverge: true,
        postcopy: false,
      },
    })
  })

  it('moves a stopped VM only offline, and a running one offline only once shut down', () => {
    expect(validateMigrate(form({ mode: 'live' }), stopped, 'lab2').errors.mode).toMatch(/moves offline/)
    expect(validateMigrate(form({ mode: 'offline' }), running, 'lab2').errors.mode).toMatch(
      /^Shut the VM down first/,
    )
    const offline = validateMigrate(
      form({ mode: 'offline', copy: true, maxDowntimeMs: 'ignored', postcopy: true, autoConverge: false }),
      stopped,
      'lab2',
    )
    // Downtime and post-copy belong to a live move: an offline one neither checks nor sends them.
    expect(offline.errors).toEqual({})
    expect(offline.options).toMatchObject({ offline: true, copy: true, postcopy: false, autoConverge: true })
  })

  it('takes an optional whole bandwidth in Mbit/s and a downtime of 1 to 60000 ms', () => {
    expect(validateMigrate(form({ bandwidthMbps: ' 100 ' }), running, 'lab2').options?.bandwidthMbps).toBe(
      100,
    )
    for (const bad of ['0', '1.5', 'fast', '1000001'])
      expect(validateMigrate(form({ bandwidthMbps: bad }), running, 'lab2').errors.bandwidthMbps).toMatch(
        /whole number of Mbit\/s/,
      )
    for (const bad of ['0', '60001', '', '2.5'])
      expect(validateMigrate(form({ maxDowntimeMs: bad }), running, 'lab2').errors.maxDowntimeMs).toMatch(
        /from 1 to 60000/,
      )
    expect(validateMigrate(form({ maxDowntimeMs: '60000' }), running, 'lab2').options?.maxDowntimeMs).toBe(
      60000,
    )
  })

  it('has no options without a destination', () => {
    expect(validateMigrate(form(), running, null).options).toBeNull()
    expect(validateMigrate(form(), running, 'not a name!').options).toBeNull()
  })

  it('says why a VM in the middle of something cannot move', () => {
    expect(whyNotMovable({ name: 'web', state: 'running' })).toBeNull()
    expect(whyNotMovable({ name: 'web', state: 'stopped' })).toBeNull()
    expect(whyNotMovable({ name: 'web', state: 'starting' })).toBe(
      '“web” is starting; wait until it runs or has stopped.',
    )
    expect(whyNotMovable({ name: 'web', state: 'migrating' })).toBe('“web” is already moving.')
  })

  it('knows when the checked options are the ones about to be used', () => {
    const a = validateMigrate(form(), running, 'lab2').options
    expect(sameOptions(a, validateMigrate(form(), running, 'lab2').options)).toBe(true)
    expect(sameOptions(a, validateMigrate(form({ copy: true }), running, 'lab2').options)).toBe(false)
    expect(sameOptions(a, null)).toBe(false)
  })

  it('makes job ids the contract accepts, a new one each time', () => {
    const id = newMigrationJobId()
    expect(JobId.safeParse(id).success).toBe(true)
    expect(id).toMatch(/^migrate-[0-9a-f]{16}$/)
    expect(newMigrationJobId()).not.toBe(id)
    expect(newMigrationJobId((b) => b.fill(255))).toBe('migrate-ffffffffffffffff')
  })
})

const progress = (over: Partial<MigrationProgress> = {}): MigrationProgress => ({
  job: 'migrate-1',
  vm: VM,
  phase: 'copying-memory',
  bytesDone: 300 * 1024 * 1024,
  bytesLeft: 100 * 1024 * 1024,
  dirtyPagesPerSecond: 1234.4,
  expectedDowntimeMs: 42,
  etaMs: 65_000,
  bytesPerSecond: 12.5 * 1024 * 1024,
  ...over,
})

describe('progress in words', () => {
  it('formats bytes, rates and durations', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB')
    expect(formatBytes(2.25 * 1024 ** 3)).toBe('2.3 GiB')
    expect(formatRate(12.5 * 1024 * 1024)).toBe('12.5 MiB/s (105 Mbit/s)')
    expect(formatRate(100_000)).toBe('97.7 KiB/s (0.8 Mbit/s)')
    expect(formatDuration(25.4)).toBe('25 ms')
    expect(formatDuration(1500)).toBe('1.5 s')
    expect(formatDuration(65_000)).toBe('1 min 5 s')
    expect(formatDuration(3_720_000)).toBe('1 h 2 min')
  })

  it('lists every figure the engine knows, with the phase in words', () => {
    expect(progressLines(progress())).toEqual([
      { label: 'Phase', value: 'Copying memory' },
      { label: 'Done', value: '300 MiB' },
      { label: 'Left', value: '100 MiB' },
      { label: 'Throughput', value: '12.5 MiB/s (105 Mbit/s)' },
      { label: 'Dirty pages', value: '1,234/s' },
      { label: 'Expected downtime', value: '42 ms' },
      { label: 'Time left', value: '1 min 5 s' },
    ])
    expect(progressFraction(progress())).toBe(0.75)
  })

  it('leaves out what is unknown', () => {
    const p = progress({
      phase: 'copying-disks',
      bytesLeft: null,
      dirtyPagesPerSecond: null,
      expectedDowntimeMs: null,
      etaMs: null,
      bytesPerSecond: null,
    })
    expect(progressLines(p)).toEqual([
      { label: 'Phase', value: 'Copying disks' },
      { label: 'Done', value: '300 MiB' },
    ])
    expect(progressFraction(p)).toBeNull()
  })

  it('says the result with the measured downtime and total time', () => {
    const r: MigrationResult = {
      vm: VM,
      name: 'web',
      to: 'lab2',
      mode: 'live',
      copy: false,
      postcopy: false,
      downtimeMs: 27,
      totalMs: 1800,
      bytes: 600 * 1024 ** 2,
    }
    expect(resultTitle(r)).toBe('Moved “web” to lab2 (live).')
    expect(resultLines(r)).toEqual([
      { label: 'Downtime', value: '27 ms' },
      { label: 'Total time', value: '1.8 s' },
      { label: 'Transferred', value: '600 MiB' },
    ])
    const copied = { ...r, copy: true, mode: 'offline' as const, downtimeMs: null }
    expect(resultTitle(copied)).toBe('Copied “web” to lab2 (offline).')
    expect(resultLines(copied)[0]?.value).toBe('none: the VM was stopped')
  })

  it('says what a cancel means for the VM, and a failure in the engine’s words', () => {
    expect(failureText('migration cancelled', { cancelled: true, live: true })).toBe(
      'Cancelled; the VM keeps running here.',
    )
    expect(failureText('x', { cancelled: true, live: false })).toBe('Cancelled; the VM stays here as it was.')
    expect(failureText('lab2 has too little free disk space', { cancelled: false, live: true })).toBe(
      'The migration failed: lab2 has too little free disk space',
    )
  })
})

describe('Add host form', () => {
  it('gives remote.add its params, the code normalised', () => {
    expect(validateAddHost({ name: ' lab2 ', address: '192.0.2.7:7300', code: 'abcd-efgh' })).toEqual({
      errors: {},
      params: { name: 'lab2', address: '192.0.2.7:7300', code: 'ABCDEFGH' },
    })
    expect(
      validateAddHost({ name: 'lab2', address: '[fd00::7]:7300', code: 'ABCD EFGH' }).params?.address,
    ).toBe('[fd00::7]:7300')
  })

  it('says what is wrong with each field', () => {
    const empty = validateAddHost({ name: '', address: '', code: '' })
    expect(empty.params).toBeNull()
    expect(empty.errors).toEqual({
      name: 'Give the host a name, e.g. lab2.',
      address: 'Give the address the other host shows, e.g. 192.0.2.7:7300.',
      code: 'Give the pairing code the other host shows.',
    })
    const bad = validateAddHost({ name: '-lab', address: 'lab2', code: 'ABCD-EFG1' })
    expect(bad.errors.name).toMatch(/^A remote name is up to 63/)
    expect(bad.errors.address).toBe('An address is HOST:PORT, e.g. 192.0.2.7:7300.')
    // 1 is not in the alphabet: it is read aloud as I or L.
    expect(bad.errors.code).toMatch(/^A pairing code is 8 letters and digits/)
    expect(validateAddHost({ name: 'a', address: 'h:70000', code: 'ABCDEFGH' }).errors.address).toBe(
      'The port is a number from 1 to 65535.',
    )
  })

  it('shows a code as XXXX-XXXX with the address and its expiry', () => {
    expect(formatPairCode('abcdefgh')).toBe('ABCD-EFGH')
    expect(formatPairCode('ABCD-EFGH')).toBe('ABCD-EFGH')
    expect(hostAddress({ address: '192.0.2.7', port: 7300 })).toBe('192.0.2.7:7300')
    expect(hostAddress({ address: 'fd00::7', port: 7300 })).toBe('[fd00::7]:7300')
    const now = Date.parse('2026-01-01T10:00:00.000Z')
    expect(expiryText('2026-01-01T10:05:00.000Z', now)).toMatch(
      /^Valid once, for 5 more minutes \(until .+\)\.$/,
    )
    expect(expiryText('2026-01-01T10:01:30.000Z', now)).toMatch(/^Valid once, for 1 more minute /)
    expect(expiryText('2026-01-01T10:00:20.000Z', now)).toMatch(/^Valid once, for 20 more seconds /)
    expect(expiryText('2026-01-01T09:59:00.000Z', now)).toBe('This code has expired; ask for a new one.')
  })
})
