// KeyboardEvent.code → XT scancode, QEMU's keycode folding, and the keysym hints.
import { describe, expect, it } from 'vitest'
import { keysymFor, qemuKeycode, XT_SCANCODES, xtScancode } from '../../renderer/display/scancodes.ts'

describe('code → XT scancode', () => {
  it('maps the main block by position', () => {
    expect(xtScancode('Escape')).toBe(0x01)
    expect(xtScancode('Digit1')).toBe(0x02)
    expect(xtScancode('Digit0')).toBe(0x0b)
    expect(xtScancode('KeyQ')).toBe(0x10)
    expect(xtScancode('KeyA')).toBe(0x1e)
    expect(xtScancode('KeyZ')).toBe(0x2c)
    expect(xtScancode('KeyM')).toBe(0x32)
    expect(xtScancode('Space')).toBe(0x39)
    expect(xtScancode('Enter')).toBe(0x1c)
    expect(xtScancode('IntlBackslash')).toBe(0x56)
    expect(xtScancode('F1')).toBe(0x3b)
    expect(xtScancode('F10')).toBe(0x44)
    expect(xtScancode('F11')).toBe(0x57)
    expect(xtScancode('F12')).toBe(0x58)
  })

  it('gives extended keys their 0xE0 prefix', () => {
    expect(xtScancode('ArrowUp')).toBe(0xe048)
    expect(xtScancode('ArrowLeft')).toBe(0xe04b)
    expect(xtScancode('Delete')).toBe(0xe053)
    expect(xtScancode('ControlRight')).toBe(0xe01d)
    expect(xtScancode('AltRight')).toBe(0xe038)
    expect(xtScancode('NumpadEnter')).toBe(0xe01c)
    expect(xtScancode('MetaLeft')).toBe(0xe05b)
    expect(xtScancode('OSLeft')).toBe(0xe05b)
  })

  it('knows nothing of unknown or inherited names', () => {
    expect(xtScancode('Unidentified')).toBeUndefined()
    expect(xtScancode('')).toBeUndefined()
    expect(xtScancode('toString')).toBeUndefined()
    expect(xtScancode('constructor')).toBeUndefined()
  })

  it('has every letter and digit, and no two keys on one scancode but the legacy aliases', () => {
    for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') expect(xtScancode(`Key${c}`)).toBeTypeOf('number')
    for (let d = 0; d <= 9; d++) expect(xtScancode(`Digit${d}`)).toBeTypeOf('number')
    for (let d = 0; d <= 9; d++) expect(xtScancode(`Numpad${d}`)).toBeTypeOf('number')
    const seen = new Map<number, string>()
    for (const [code, sc] of Object.entries(XT_SCANCODES)) {
      if (code.startsWith('OS')) continue
      expect(seen.get(sc), `${code} and ${seen.get(sc)} share ${sc.toString(16)}`).toBeUndefined()
      seen.set(sc, code)
    }
  })

  it('folds the prefix into the high bit for QEMU', () => {
    expect(qemuKeycode(0x1e)).toBe(0x1e)
    expect(qemuKeycode(0xe048)).toBe(0xc8)
    expect(qemuKeycode(0xe053)).toBe(0xd3)
    expect(qemuKeycode(0xe01d)).toBe(0x9d)
  })
})

describe('keysym hints', () => {
  it('uses Latin-1 characters as they are and Unicode above', () => {
    expect(keysymFor('KeyA', 'a')).toBe(0x61)
    expect(keysymFor('KeyA', 'A')).toBe(0x41)
    expect(keysymFor('Semicolon', 'é')).toBe(0xe9)
    expect(keysymFor('KeyE', '€')).toBe(0x010020ac)
  })

  it('names the special keys and tells the sides of modifiers apart', () => {
    expect(keysymFor('Enter', 'Enter')).toBe(0xff0d)
    expect(keysymFor('ArrowDown', 'ArrowDown')).toBe(0xff54)
    expect(keysymFor('ShiftLeft', 'Shift')).toBe(0xffe1)
    expect(keysymFor('ShiftRight', 'Shift')).toBe(0xffe2)
    expect(keysymFor('F5', 'F5')).toBe(0xffc2)
  })

  it('gives 0 where nothing fits', () => {
    expect(keysymFor('Quote', 'Dead')).toBe(0)
    expect(keysymFor('KeyA', undefined)).toBe(0)
    expect(keysymFor('KeyA', '')).toBe(0)
  })
})
