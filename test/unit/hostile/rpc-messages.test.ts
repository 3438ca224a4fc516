// Hostile RPC traffic straight into a real engine: messages that are no requests, methods that do
// not exist (or are Object.prototype's), params of the wrong type, huge and NaN-ish numbers,
// prototype-pollution keys, deep nesting and overlong strings. Each gets one sentence and a code
// that is not `internal`, and leaves the data dir as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRefused, refusedWithoutTrace, startEngine, type HostileEngine } from './harness.ts'

let t: HostileEngine
beforeAll(async () => {
  t = await startEngine()
})
afterAll(() => t.close())

const NO_REQUEST =
  'this message is not a request; send {"type": "request", "id": N, "method": NAME, "params": {…}}'

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf
  for (let i = 0; i < depth; i++) v = { mode: v }
  return v
}

describe('messages that are no request', () => {
  it.each<[string, unknown, number]>([
    ['an object of the wrong shape', { hello: 'world' }, -1],
    ['null', null, -1],
    ['a string', 'vm.list', -1],
    ['a number', 42, -1],
    ['a list', [], -1],
    ['a string id', { type: 'request', id: '1', method: 'vm.list' }, -1],
    ['a fractional id', { type: 'request', id: 1.5, method: 'vm.list' }, -1],
    ['a method that is a number', { type: 'request', id: 9, method: 42 }, 9],
    ['a response sent to the engine', { type: 'response', id: 3, result: {} }, 3],
    ['an event sent to the engine', { type: 'event', event: 'vm.state', data: {} }, -1],
  ])('%s', async (_what, message, id) => {
    const r = await t.send(message)
    expect(r.id).toBe(id)
    expectRefused(r, 'invalid_request', NO_REQUEST)
  })
})

describe('methods that do not exist', () => {
  const none = (m: string) => `there is no method ${m}; the methods are listed in engine/api/rpc.ts`
  it.each<[string, string, string]>([
    ['vm.explode', 'vm.explode', none('"vm.explode"')],
    ['__proto__', '__proto__', none('"__proto__"')],
    ['constructor', 'constructor', none('"constructor"')],
    ['toString', 'toString', none('"toString"')],
    ['hasOwnProperty', 'hasOwnProperty', none('"hasOwnProperty"')],
    ['an empty name', '', none('""')],
    ['a NUL after a real name', 'vm.list\u0000', none('"vm.list\\x00"')],
    ['ESC [2J after a real name', 'vm.list\x1b[2J', none('"vm.list\\x1b[2J"')],
    ['100 000 characters', 'x'.repeat(100_000), none(`"${'x'.repeat(60)}…" (100000 characters)`)],
  ])('%s', async (_what, method, message) => {
    expectRefused(await t.call(method, {}), 'invalid_request', message)
  })

  it('a peer-only method from a client', async () => {
    expectRefused(
      await t.call('peer.hello', {}),
      'unauthorized',
      'only a paired host may call this, over its own channel',
    )
  })
})

describe('params of the wrong type', () => {
  const cpus = (v: string) => `\`cpus\` must be a whole number from 1 to 64, not ${v}`
  it.each<[string, string, unknown, string]>([
    ['a list as params', 'vm.create', [], 'the parameters of vm.create must be an object, not a list'],
    [
      'a string as params',
      'vm.create',
      'x',
      'the parameters of vm.create must be an object, not the text "x"',
    ],
    ['a number as params', 'vm.create', 5, 'the parameters of vm.create must be an object, not 5'],
    ['null params', 'vm.create', null, '`name` is required but was not given'],
    ['a number as a name', 'vm.create', { name: 42 }, '`name` must be text, not 42'],
    ['a list as a name', 'vm.create', { name: ['a'] }, '`name` must be text, not a list'],
    ['an object as a name', 'vm.create', { name: { toString: 'x' } }, '`name` must be text, not an object'],
    ['null as a name', 'vm.create', { name: null }, '`name` must be text, not null'],
    ['1.5 CPUs', 'vm.create', { name: 'a', cpus: 1.5 }, '`cpus` must be a whole number, not 1.5'],
    ['"4" CPUs', 'vm.create', { name: 'a', cpus: '4' }, cpus('the text "4"')],
    ['"NaN" CPUs', 'vm.create', { name: 'a', cpus: 'NaN' }, cpus('the text "NaN"')],
    ['NaN CPUs', 'vm.create', { name: 'a', cpus: NaN }, cpus('NaN')],
    ['Infinity CPUs', 'vm.create', { name: 'a', cpus: Infinity }, cpus('Infinity')],
    ['-Infinity CPUs', 'vm.create', { name: 'a', cpus: -Infinity }, cpus('-Infinity')],
    ['"0x10" CPUs', 'vm.create', { name: 'a', cpus: '0x10' }, cpus('the text "0x10"')],
    ['"1e3" CPUs', 'vm.create', { name: 'a', cpus: '1e3' }, cpus('the text "1e3"')],
    ['true CPUs', 'vm.create', { name: 'a', cpus: true }, cpus('true')],
    ['1e308 CPUs', 'vm.create', { name: 'a', cpus: 1e308 }, '`cpus` must be at most 64, not 1e+308'],
    [
      '2^53 CPUs',
      'vm.create',
      { name: 'a', cpus: 2 ** 53 },
      '`cpus` must be at most 64, not 9007199254740992',
    ],
    ['10 000 CPUs', 'vm.create', { name: 'a', cpus: 10_000 }, '`cpus` must be at most 64, not 10000'],
    ['no CPUs', 'vm.create', { name: 'a', cpus: 0 }, '`cpus` must be at least 1, not 0'],
    ['-1 CPUs', 'vm.create', { name: 'a', cpus: -1 }, '`cpus` must be at least 1, not -1'],
    [
      '10 TiB of memory',
      'vm.create',
      { name: 'a', memoryMiB: 10 * 2 ** 20 },
      '`memoryMiB` must be at most 1048576, not 10485760',
    ],
    [
      '15 MiB of memory',
      'vm.create',
      { name: 'a', memoryMiB: 15 },
      '`memoryMiB` must be at least 16, not 15',
    ],
    [
      'blank memory',
      'vm.create',
      { name: 'a', memoryMiB: '   ' },
      '`memoryMiB` must be a whole number from 16 to 1048576, not the text "   "',
    ],
    [
      'an unknown firmware',
      'vm.create',
      { name: 'a', firmware: 'coreboot' },
      '`firmware` must be one of bios, uefi, not the text "coreboot"',
    ],
    [
      'an accelerator that cannot be forced',
      'vm.create',
      { name: 'a', accelerator: 'kvm' },
      '`accelerator` must be one of auto, tcg, not the text "kvm"',
    ],
    [
      'an unknown card model',
      'vm.create',
      { name: 'a', nic: 'pcnet' },
      '`nic` must be one of virtio-net, e1000, e1000e, rtl8139, vmxnet3, none, not the text "pcnet"',
    ],
    ['a negative timeout', 'vm.stop', { vm: 'a', timeoutMs: -5 }, '`timeoutMs` must be at least 0, not -5'],
    [
      '"yes" for a boolean',
      'vm.stop',
      { vm: 'a', force: 'yes' },
      '`force` must be true or false, not the text "yes"',
    ],
    ['1 for a boolean', 'host.stop', { stopVms: 1 }, '`stopVms` must be true or false, not 1'],
    ['channel 0', 'stream.close', { channel: 0 }, '`channel` must be at least 1, not 0'],
    [
      'an unknown stream kind',
      'stream.open',
      { vm: 'a', kind: 'keyboard' },
      '`kind` must be one of console, display, not the text "keyboard"',
    ],
    [
      'an unknown device kind',
      'device.attach',
      { vm: 'a', kind: 'usb' },
      '`kind` must be one of disk, nic, not the text "usb"',
    ],
    [
      'port 70000 to listen on',
      'host.accept',
      { enabled: true, port: 70000 },
      '`port` must be at most 65535, not 70000',
    ],
    [
      'no bandwidth',
      'vm.migrate',
      { vm: 'a', to: 'other', bandwidthMbps: 0 },
      '`bandwidthMbps` must be at least 1, not 0',
    ],
    [
      'a job id with a space',
      'vm.create',
      { name: 'a', job: 'a b' },
      'a job id is 1-64 letters, digits, - or _',
    ],
    [
      'a pairing code of the wrong alphabet',
      'remote.add',
      { name: 'other', address: '192.0.2.7:7300', code: '0000-0000' },
      'a pairing code is 8 letters and digits, as shown by `vireo host pair-code` on the other host',
    ],
    [
      'a remote address without a port',
      'remote.add',
      { name: 'other', address: '192.0.2.7', code: 'ABCD-EFGH' },
      'an address is HOST:PORT, e.g. 192.0.2.7:7300',
    ],
    [
      'peer-only params of garbage',
      'peer.incoming.prepare',
      { migration: 'zz' },
      '`migration` is not in the expected form, not the text "zz"',
    ],
  ])('%s', async (_what, method, params, message) => {
    await refusedWithoutTrace(t, method, params, 'invalid_request', message)
  })
})

describe('prototype keys, deep nesting and overlong strings', () => {
  it.each<[string, string, unknown, string]>([
    [
      '__proto__ in a strict object',
      'vm.update',
      JSON.parse('{"vm":"a","__proto__":{"cpus":64}}'),
      '`__proto__` is not among the parameters of vm.update; leave it out',
    ],
    [
      'constructor in a strict object',
      'nic.update',
      { vm: 'a', nic: 'net0', constructor: { prototype: { polluted: true } } },
      '`constructor` is not among the parameters of nic.update; leave it out',
    ],
    [
      'prototype and two more in a strict object',
      'disk.update',
      { vm: 'a', disk: 'd', prototype: 1, a: 1, b: 1, c: 1 },
      '`prototype`, `a`, `b` and 1 more are not among the parameters of disk.update; leave them out',
    ],
    [
      'an odd key in an empty method',
      'vm.list',
      { 'a\nb': nested(1_000, 1) },
      '`["a\\nb"]` is not among the parameters of vm.list; leave it out',
    ],
    [
      'a VM reference 1000 objects deep',
      'vm.info',
      { vm: nested(1_000, 'x') },
      '`vm` must be text, not an object',
    ],
    [
      'a network 1000 objects deep',
      'nic.update',
      { vm: 'a', nic: 'net0', network: nested(1_000, 'nat') },
      '`network.mode` must be one of nat, internal, none, not an object',
    ],
    [
      'a VM reference of a million characters',
      'vm.info',
      { vm: 'x'.repeat(1_000_000) },
      'a name or id is at most 256 characters; no VM, device or snapshot has a longer one',
    ],
    ['an empty VM reference', 'vm.start', { vm: '' }, 'a name or id cannot be empty'],
    [
      'a name of 129 characters',
      'vm.create',
      { name: 'x'.repeat(129) },
      'a VM name is at most 128 characters',
    ],
    [
      'a description of 5000 characters',
      'snapshot.take',
      { vm: 'a', name: 's', description: 'd'.repeat(5000) },
      '`description` must be at most 4096 characters long, not 5000',
    ],
    [
      'a kernel command line of 4097 characters',
      'vm.create',
      { name: 'a', kernel: '/k', cmdline: 'c'.repeat(4097) },
      '`cmdline` must be at most 4096 characters long, not 4097',
    ],
    [
      'an OS id of 65 characters',
      'vm.create',
      { name: 'a', os: 'o'.repeat(65) },
      '`os` must be at most 64 characters long, not 65',
    ],
    [
      'a path of 5000 characters',
      'image.inspect',
      { path: `/${'p'.repeat(4999)}` },
      'a path is at most 4096 characters',
    ],
    [
      'a boot order of a thousand devices',
      'vm.create',
      { name: 'a', bootOrder: Array(1000).fill('disk') },
      'a boot order names each of disk, cdrom and network at most once',
    ],
  ])('%s', async (_what, method, params, message) => {
    await refusedWithoutTrace(t, method, params, 'invalid_request', message)
  })

  it('a VM named after Object.prototype members is not found, not found on a prototype', async () => {
    for (const vm of ['__proto__', 'constructor', 'hasOwnProperty'])
      expectRefused(await t.call('vm.info', { vm }), 'not_found', `there is no VM named "${vm}"`)
  })

  it('a reference holding ESC or a bidi override is quoted escaped', async () => {
    expectRefused(
      await t.call('vm.info', { vm: 'a\x1b[2J' }),
      'not_found',
      'there is no VM named "a\\x1b[2J"',
    )
    expectRefused(
      await t.call('vm.info', { vm: '\u202egnp.exe' }),
      'not_found',
      'there is no VM named "\\u202egnp.exe"',
    )
  })

  it('__proto__ in a lenient object is dropped, never merged into a prototype or the VM', async () => {
    const r = await t.call(
      'vm.create',
      JSON.parse('{"name":"proto","accelerator":"tcg","__proto__":{"polluted":1}}'),
    )
    expect(r.error).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(JSON.stringify(r.result)).not.toContain('polluted')
  })
})
