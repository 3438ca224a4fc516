// VM names that look like another, or hide what is around them: invisible and text-direction
// characters are refused at every entry point (create, rename, clone, import), names are one under
// Unicode NFC and case, and vm.json files from before these rules still load and still save.
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refusedWithoutTrace, startEngine, type HostileEngine } from './harness.ts'

let t: HostileEngine
let vm: { id: string; name: string }
beforeAll(async () => {
  t = await startEngine()
  vm = await t.makeVm('Café')
})
afterAll(() => t.close())

const hidden = (code: string) =>
  `a VM name cannot hold invisible or text-direction characters, and this one holds ${code}; type the name without it`
const control = (code: string) =>
  `a VM name cannot hold control characters, and this one holds ${code}; type the name without it`

// [what, the character, its refusal]; each sits inside a name ("a<ch>b"), where trimming cannot help.
const CHARACTERS: [string, string, string][] = [
  ['zero-width space', '\u200b', hidden('U+200B')],
  ['zero-width non-joiner', '\u200c', hidden('U+200C')],
  ['zero-width joiner', '\u200d', hidden('U+200D')],
  ['left-to-right mark', '\u200e', hidden('U+200E')],
  ['right-to-left mark', '\u200f', hidden('U+200F')],
  ['left-to-right embedding', '\u202a', hidden('U+202A')],
  ['right-to-left embedding', '\u202b', hidden('U+202B')],
  ['pop directional formatting', '\u202c', hidden('U+202C')],
  ['left-to-right override', '\u202d', hidden('U+202D')],
  ['right-to-left override', '\u202e', hidden('U+202E')],
  ['left-to-right isolate', '\u2066', hidden('U+2066')],
  ['right-to-left isolate', '\u2067', hidden('U+2067')],
  ['first strong isolate', '\u2068', hidden('U+2068')],
  ['pop directional isolate', '\u2069', hidden('U+2069')],
  ['byte order mark', '\ufeff', hidden('U+FEFF')],
  ['soft hyphen', '\u00ad', hidden('U+00AD')],
  ['word joiner', '\u2060', hidden('U+2060')],
  ['Arabic letter mark', '\u061c', hidden('U+061C')],
  ['Mongolian vowel separator', '\u180e', hidden('U+180E')],
  ['line separator', '\u2028', hidden('U+2028')],
  ['paragraph separator', '\u2029', hidden('U+2029')],
  ['a language tag', '\u{e0001}', hidden('U+E0001')],
  ['a lone surrogate', '\ud800', hidden('U+D800')],
  ['NUL', '\u0000', control('U+0000')],
  ['BEL', '\u0007', control('U+0007')],
  ['ESC [2J', '\u001b[2J', control('U+001B')],
  ['DEL', '\u007f', control('U+007F')],
  ['NEL', '\u0085', control('U+0085')],
  ['CSI', '\u009b', control('U+009B')],
  ['a newline', '\n', control('U+000A')],
  ['a carriage return', '\r', control('U+000D')],
  ['a tab', '\t', control('U+0009')],
]

describe('a new VM', () => {
  it.each(CHARACTERS)('is refused a name holding a %s', async (_what, ch, message) => {
    await refusedWithoutTrace(
      t,
      'vm.create',
      { name: `a${ch}b`, accelerator: 'tcg' },
      'invalid_request',
      message,
    )
  })

  it.each<[string, string, string]>([
    ['blank', '   ', 'a VM name cannot be empty'],
    ['only a byte order mark (trimmed away)', '\ufeff', 'a VM name cannot be empty'],
    ['129 characters', 'n'.repeat(129), 'a VM name is at most 128 characters'],
  ])('is refused a name that is %s', async (_what, name, message) => {
    await refusedWithoutTrace(t, 'vm.create', { name, accelerator: 'tcg' }, 'invalid_request', message)
  })

  it.each<[string, string]>([
    ['the same name decomposed (e + combining acute)', 'Cafe\u0301'],
    ['the same name in capitals', 'CAFÉ'],
    ['the same name with spaces around it', '  Café  '],
    ['the same name decomposed and in capitals', 'CAFE\u0301'],
  ])('is refused %s as a name already taken', async (_what, name) => {
    await refusedWithoutTrace(
      t,
      'vm.create',
      { name, accelerator: 'tcg' },
      'conflict',
      'a VM named "Café" already exists; choose another name',
    )
  })

  it('is stored under the composed (NFC) form of a decomposed name, and found by either', async () => {
    const r = await t.call('vm.create', { name: 'Re\u0301sume\u0301', accelerator: 'tcg' })
    expect((r.result as { name: string }).name).toBe('Résumé')
    const byDecomposed = await t.call('vm.info', { vm: 'RE\u0301SUME\u0301' })
    expect((byDecomposed.result as { name: string }).name).toBe('Résumé')
  })
})

describe('renaming, cloning and importing', () => {
  it.each<[string, string, string]>([
    ['right-to-left override', 'x\u202etxt.exe', hidden('U+202E')],
    ['zero-width space', 'Caf\u200bé', hidden('U+200B')],
    ['ESC', 'x\u001b]0;title\u0007', control('U+001B')],
    ['a newline', 'x\nForged: line', control('U+000A')],
  ])('a rename holding a %s is refused', async (_what, name, message) => {
    await refusedWithoutTrace(t, 'vm.update', { vm: vm.id, name }, 'invalid_request', message)
  })

  it('a rename to a look-alike of another VM is refused', async () => {
    await t.makeVm('Naïve')
    await refusedWithoutTrace(
      t,
      'vm.update',
      { vm: vm.id, name: 'Nai\u0308ve' },
      'conflict',
      'a VM named "Naïve" already exists; choose another name',
    )
  })

  it.each<[string, string, string]>([
    ['isolate', 'clone\u2066', hidden('U+2066')],
    ['BOM inside', 'clo\ufeffne', hidden('U+FEFF')],
  ])('a clone named with an %s is refused', async (_what, name, message) => {
    await refusedWithoutTrace(t, 'vm.clone', { vm: vm.id, name }, 'invalid_request', message)
  })

  it('a clone named as a look-alike of an existing VM is refused', async () => {
    await refusedWithoutTrace(
      t,
      'vm.clone',
      { vm: vm.id, name: 'cafe\u0301' },
      'conflict',
      'a VM named "Café" already exists; choose another name',
    )
  })

  it('an import named with a bidi override is refused before the appliance is opened', async () => {
    await refusedWithoutTrace(
      t,
      'vm.import',
      { path: '/nonexistent.ova', name: 'app\u202e' },
      'invalid_request',
      hidden('U+202E'),
    )
  })
})

describe('vm.json files written before these rules', () => {
  const config = (name: string) => ({
    schemaVersion: 1,
    id: randomUUID(),
    name,
    createdAt: new Date().toISOString(),
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    firmware: 'bios',
    accelerator: 'tcg',
    cpus: 1,
    memoryMiB: 128,
  })

  it('still load (names in NFC), still save, and still hold their names against new ones', async () => {
    const old = await startEngine()
    try {
      const files = [config('evil\u202etxt.exe'), config('e\u0301t\u00e9'), config('\u00e9t\u00e9')]
      for (const c of files) {
        mkdirSync(join(old.dataDir, 'vms', c.id), { recursive: true })
        writeFileSync(join(old.dataDir, 'vms', c.id, 'vm.json'), JSON.stringify(c))
      }
      await old.engine.init()
      const list = (await old.call('vm.list', {})).result as { name: string }[]
      expect(list.map((v) => v.name).sort()).toEqual(['evil\u202etxt.exe', 'été', 'été'])
      // The older look-alikes both save a change that is not a rename.
      for (const c of files)
        expect((await old.call('vm.update', { vm: c.id, cpus: 2 })).error).toBeUndefined()
      // A new name that only differs by the invisible override is the same name.
      await refusedWithoutTrace(
        old,
        'vm.create',
        { name: 'eviltxt.exe', accelerator: 'tcg' },
        'conflict',
        'a VM named "evil\\u202etxt.exe" already exists; choose another name',
      )
    } finally {
      await old.close()
    }
  })
})
