// The pure parts of issue 12's connection handling: the settings and their refusals, whose bound a
// client address counts against, what the log says during a flood, the sentences for a listener the
// system refuses, and the one rule for whether a host process is still there.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { VireoError } from '../../engine/api/errors.ts'
import { clientKey, ThrottledLog } from '../../engine/host/conn-guard.ts'
import { DEFAULT_LIMITS, resolveLimits } from '../../engine/host/conn-limits.ts'
import { refusalFor } from '../../engine/host/limited-http.ts'
import { checkListenAddress, listenRefusal } from '../../engine/host/listen.ts'
import { DataDirLock, lockHeld, readOwner } from '../../engine/host/lock.ts'
import { isAlive, isSameProcess, isZombie, processStartTime } from '../../engine/util/process-alive.ts'
import { hostHeaderAllowed } from '../../engine/host/rpc-upgrade.ts'

const refusal = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return err instanceof VireoError ? { code: err.code, message: err.message } : err
  }
  return 'not refused'
}

describe('connection limits', () => {
  it('defaults, then the environment, then the caller', () => {
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS)
    const l = resolveLimits({ VIREO_CONN_FIRST_BYTE_MS: '1500', VIREO_CONN_TOTAL: ' 20 ' }, { total: 30 })
    expect(l).toEqual({ ...DEFAULT_LIMITS, firstByteMs: 1500, total: 30 })
  })

  it.each([
    ['VIREO_CONN_FIRST_BYTE_MS', 'abc', '50 to 3600000'],
    ['VIREO_CONN_FIRST_BYTE_MS', '-5', '50 to 3600000'],
    ['VIREO_CONN_HEADERS_MS', '1.5', '50 to 3600000'],
    ['VIREO_CONN_IDLE_MS', '10s', '50 to 3600000'],
    ['VIREO_CONN_PING_MS', '0', '50 to 3600000'],
    ['VIREO_CONN_UPGRADE_MS', '0x10', '50 to 3600000'],
    ['VIREO_CONN_TOTAL', '99999999', '1 to 1000000'],
    ['VIREO_CONN_PER_ADDRESS', '1e3', '1 to 1000000'],
    ['VIREO_CONN_MAX_HEADER_BYTES', '10', '1024 to 1048576'],
    ['VIREO_CONN_MAX_MESSAGE_BYTES', '99999999999', '1024 to 1073741824'],
  ])('refuses %s=%s in one sentence', (name, value, range) => {
    expect(refusal(() => resolveLimits({ [name]: value }))).toEqual({
      code: 'invalid_request',
      message: `${name}="${value}" is not a whole number from ${range}; set it within that range`,
    })
  })

  it('refuses a caller value out of range, and headers longer than the request', () => {
    expect(refusal(() => resolveLimits({}, { stallMs: 10 }))).toEqual({
      code: 'invalid_request',
      message: 'limits.stallMs = 10 is not a whole number from 50 to 3600000; set it within that range',
    })
    expect(refusal(() => resolveLimits({ VIREO_CONN_HEADERS_MS: '40000' }))).toEqual({
      code: 'invalid_request',
      message:
        "the headers deadline (40000 ms) is longer than the whole request's (30000 ms); make VIREO_CONN_HEADERS_MS at most VIREO_CONN_REQUEST_MS",
    })
  })
})

describe('the address a bound counts against', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [undefined, 'local'],
  ])('%s counts as %s', (address, key) => {
    expect(clientKey(address)).toBe(key)
  })
})

describe('the log during a flood', () => {
  it('says the first of a kind, counts the rest, and reports the count when the window ends', () => {
    const lines: string[] = []
    let now = 0
    const log = new ThrottledLog(
      (l) => lines.push(l),
      10_000,
      () => now,
    )
    for (let i = 0; i < 1000; i++) log.say('silent', `closed ${i}`)
    log.say('token', 'refused a token')
    expect(lines).toEqual(['closed 0', 'refused a token'])
    now = 10_001
    log.say('silent', 'closed again')
    expect(lines).toEqual(['closed 0', 'refused a token', '999 more like it: silent', 'closed again'])
  })
})

describe('a listener the system refuses', () => {
  const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code })
  it.each([
    [
      'EADDRINUSE',
      8123,
      'conflict',
      'port 8123 on 127.0.0.1 is already in use; choose another port or free it',
    ],
    [
      'EACCES',
      80,
      'invalid_request',
      'port 80 on 127.0.0.1 needs privileges this host does not have; choose a port above 1023',
    ],
    [
      'EACCES',
      8123,
      'invalid_request',
      'this host is not allowed to listen on port 8123 of 127.0.0.1; choose another port',
    ],
    [
      'EADDRNOTAVAIL',
      8123,
      'invalid_request',
      '127.0.0.1 is not an address of this machine; choose one of its own addresses, or 0.0.0.0 for all',
    ],
    [
      'EAFNOSUPPORT',
      8123,
      'invalid_request',
      'this machine cannot listen on 127.0.0.1 (its address family is off); choose an address of the other family',
    ],
  ])('%s on port %s is one sentence', (code, port, vireoCode, message) => {
    const err = listenRefusal(errno(code), '127.0.0.1', port) as VireoError
    expect({ code: err.code, message: err.message }).toEqual({ code: vireoCode, message })
  })

  it('leaves an error it does not know as it was', () => {
    const err = errno('EMFILE')
    expect(listenRefusal(err, '127.0.0.1', 1)).toBe(err)
  })

  it.each(['127.0.0.1', '0.0.0.0', '::1', '::', 'localhost'])('takes %s as a listen address', (a) => {
    expect(() => checkListenAddress(a)).not.toThrow()
  })
  it.each(['example.com', '127.0.0.1:80', '[::1]', ' 127.0.0.1', '1.2.3.4.5', '', 'localhost.'])(
    'refuses %j as a listen address, before any DNS',
    (a) => {
      expect(refusal(() => checkListenAddress(a))).toEqual({
        code: 'invalid_request',
        message: `the listen address must be an IP address (such as 127.0.0.1 or ::1) or localhost, not "${a}"`,
      })
    },
  )
})

describe('what a broken request is told', () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
    ['HPE_INVALID_METHOD', 400],
    [undefined, 400],
  ])('%s: %s', (code, status) => {
    expect(refusalFor(code, DEFAULT_LIMITS, DEFAULT_LIMITS.requestMs).status).toBe(status)
  })
  it('names the deadlines it missed', () => {
    expect(refusalFor('ERR_HTTP_REQUEST_TIMEOUT', DEFAULT_LIMITS, 0).sentence).toBe(
      "a request's headers must arrive within 10000 ms; send them at once",
    )
  })
})

describe('Host headers a rebinding page could send', () => {
  it.each([
    ['127.0.0.1:8765', true],
    ['localhost:8765', true],
    ['LOCALHOST:8765', true],
    ['[::1]:8765', true],
    ['127.0.0.1', true],
    ['evil.example:8765', false],
    ['127.0.0.1:8766', false],
    ['127.0.0.1.evil.example:8765', false],
    ['localhost.:8765', false],
    ['127.0.0.1:', false],
    ['', false],
    ['user@127.0.0.1:8765', false],
  ])('%j → %s', (host, ok) => {
    expect(hostHeaderAllowed(host, 8765)).toBe(ok)
  })
})

describe('is that host still there', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-lock-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const lockFile = () => join(dir, `host-${n++}.lock`)
  const exited = async () => {
    const p = spawn('true')
    await new Promise((r) => p.once('exit', r))
    return p.pid!
  }

  it('a live process is; an exited one, a zombie and a pid reused since are not', async () => {
    expect(isAlive(process.pid)).toBe(true)
    expect(isAlive(await exited())).toBe(false)
    for (const bad of [0, -1, Number.NaN, 1.5]) expect(isAlive(bad)).toBe(false)
    // sh becomes sleep, which never reaps the child it inherited: a zombie once that exits (after the
    // exec, so that sh cannot reap it first).
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const zombie = Number(
      await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString()))),
    )
    try {
      await expect.poll(() => isZombie(zombie)).toBe(true)
      expect(isAlive(zombie)).toBe(false)
    } finally {
      parent.kill('SIGKILL')
    }
    const me = processStartTime(process.pid)
    expect(me).toMatch(/^\d+$/)
    expect(isSameProcess({ pid: process.pid, startTime: me })).toBe(true)
    expect(isSameProcess({ pid: process.pid, startTime: null })).toBe(true)
    expect(isSameProcess({ pid: process.pid, startTime: '1' })).toBe(false)
  })

  it.each([
    ['123 456\n', { pid: 123, startTime: '456' }],
    ['123\n', { pid: 123, startTime: null }],
    ['123 -\n', { pid: 123, startTime: null }],
    ['12abc\n', null],
    ['-5\n', null],
    ['0\n', null],
    ['\n', null],
    ['99999999999999\n', null],
  ])('reads the lock %j as %j', (content, owner) => {
    const file = lockFile()
    writeFileSync(file, content)
    expect(readOwner(file)).toEqual(owner)
  })

  it('takes over a lock whose pid is alive but another process now, and refuses its real owner', () => {
    const file = lockFile()
    writeFileSync(file, `${process.ppid} 1\n`)
    expect(lockHeld(file)).toBe(false)
    DataDirLock.acquire(file).release()
    writeFileSync(file, `${process.ppid} ${processStartTime(process.ppid)}\n`)
    expect(lockHeld(file)).toBe(true)
    expect(() => DataDirLock.acquire(file)).toThrow(`another Vireo engine (pid ${process.ppid}) already owns`)
  })
})
