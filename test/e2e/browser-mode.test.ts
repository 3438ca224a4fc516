// The renderer in Debian's Chromium against a real `vireo serve` and the test guest: sign-in, the
// library, a VM created and started by clicking, the guest's screen on the canvas (compared with the
// engine's own screenshot of the same paused moment), typing into the guest, the serial console,
// pause and resume, a screenshot download, and a shutdown.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { guestSays, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'
import {
  artifacts,
  ensureRendererBuild,
  launchChromium,
  recordConsole,
  serve,
  type ServedHost,
} from './support.ts'

const guest = requireTestGuest()
const NAME = 'E2E guest, "quoted"'
let host: ServedHost
let browser: Browser
let page: Page
const shot = artifacts('browser-mode')
const pageErrors: string[] = []

/**
 * Types text as a US keyboard would: the display sends scancodes (the key's position, not its
 * character), so a shifted character must be typed with Shift held, as a person does.
 */
async function typeOnKeyboard(p: Page, text: string): Promise<void> {
  const SHIFTED: Record<string, string> = {
    '>': 'Period',
    '<': 'Comma',
    $: 'Digit4',
    '(': 'Digit9',
    ')': 'Digit0',
    '*': 'Digit8',
    '"': 'Quote',
    '|': 'Backslash',
    _: 'Minus',
  }
  for (const ch of text) {
    if (ch in SHIFTED) await p.keyboard.press(`Shift+${SHIFTED[ch]}`)
    else if (ch === '\n') await p.keyboard.press('Enter')
    else await p.keyboard.type(ch)
  }
}

/** The state chip of the VM view: a bare getByText('Running') would also match any other text saying so. */
function vmState(p: Page): Promise<string> {
  return p.getByTestId('vm-state').innerText()
}

async function consoleText(p: Page): Promise<string> {
  return p.locator('.xterm-rows').innerText()
}

describe('browser mode end to end', () => {
  beforeAll(async () => {
    ensureRendererBuild()
    host = await serve()
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    recordConsole(page, 'browser-mode')
  })
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && page) await shot(page, 'FAILED', { dom: true }).catch(() => {})
  })
  afterAll(async () => {
    await browser?.close()
    await host?.stop()
  })

  it('shows a sign-in message for a wrong token, not a blank page', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/#token=not-the-token`)
    await expect.poll(() => page.getByText(/token was not accepted/i).count(), { timeout: 20_000 }).toBe(1)
    await shot(page, 'wrong-token')
  })

  it('signs in with the token and shows the empty library', async () => {
    // A new document: a change of the fragment alone would not load the page again.
    await page.goto('about:blank')
    await page.goto(`http://127.0.0.1:${host.port}/#token=${host.token}`)
    // Exact: the empty state's own heading ("No virtual machines yet") contains the same words.
    await page.getByRole('heading', { name: 'Virtual machines', exact: true }).waitFor({ timeout: 20_000 })
    await page.getByRole('heading', { name: 'No virtual machines yet' }).waitFor({ timeout: 20_000 })
    // The token leaves the address bar once used.
    expect(page.url()).not.toContain(host.token)
    await shot(page, 'empty-library')
  })

  it('creates a VM from the test ISO in the New VM wizard', async () => {
    await page.getByRole('button', { name: 'New VM' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Install from an ISO image').check()
    await dialog.getByLabel('Path on the host').fill(guest.iso)
    await dialog.getByRole('button', { name: 'Next' }).click()
    // The engine looked into the ISO: its volume, how it boots, and defaults with their reasons.
    const found = dialog.getByRole('alert', { name: 'What the file holds' })
    await found.waitFor({ timeout: 20_000 })
    expect(await found.textContent()).toMatch(/boots with BIOS/)
    await shot(page, 'new-vm-detected')
    await dialog.getByLabel('Name').fill(NAME)
    await dialog.getByLabel('Memory').fill('256')
    // One vCPU, like every other test guest: a two-vCPU guest under TCG on this busy two-core host
    // once stalled for good at boot (RCU stall, "timer wakeup didn't happen" on CPU 1).
    await dialog.getByLabel('CPUs').fill('1')
    await dialog.getByLabel('BIOS (SeaBIOS)').check()
    await shot(page, 'new-vm-dialog')
    await dialog.getByRole('button', { name: 'Create' }).click()
    // A new VM opens in its own view; the library lists it too.
    await page.getByText('This VM is stopped.').waitFor({ timeout: 30_000 })
    await shot(page, 'created')
    await page.getByRole('button', { name: 'Back to the library' }).click()
    await page.getByRole('row', { name: NAME }).waitFor({ timeout: 10_000 })
  })

  it('starts it, and the guest appears on the canvas and on the serial console', async () => {
    await page.getByRole('button', { name: `Start ${NAME}` }).click()
    await page.getByRole('row', { name: NAME }).getByText('Running').waitFor({ timeout: 60_000 })
    // The library's thumbnail of the running guest's screen.
    await page.getByRole('img', { name: `Screen of ${NAME}` }).waitFor({ timeout: 30_000 })
    await shot(page, 'library-thumbnail')
    await page.getByRole('button', { name: NAME, exact: true }).click()
    const canvas = page.getByTestId('vm-display')
    await canvas.waitFor({ timeout: 30_000 })
    await page.getByRole('tab', { name: 'Serial console' }).click()
    await expect.poll(() => consoleText(page), { timeout: 120_000, interval: 500 }).toContain(GUEST_MARKER)
    await shot(page, 'serial-marker')
    await page.getByRole('tab', { name: 'Display' }).click()
    await canvas.waitFor()
    // The marker is drawn in reverse video at the top left: wait for a lit frame there.
    await expect
      .poll(() => canvasLitFraction(page), { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(0.001)
    await shot(page, 'display')
  })

  it('pauses from the toolbar, and the canvas matches the engine screenshot of that moment', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await expect.poll(() => vmState(page), { timeout: 30_000 }).toBe('Paused')
    // A paused guest draws nothing new, so the engine's screenshot is the picture the canvas must
    // come to show once the updates in flight have landed.
    const file = join(host.dataDir, 'engine-shot.png')
    await vireoOk(host.dataDir, ['screenshot', NAME, file])
    const png = readFileSync(file).toString('base64')
    let cmp = await compareCanvasWithPng(page, png)
    await expect
      .poll(async () => (cmp = await compareCanvasWithPng(page, png)).matching, {
        timeout: 20_000,
        interval: 500,
      })
      .toBeGreaterThan(0.99)
    expect(cmp.size).toEqual(cmp.pngSize)
    expect(cmp.lit).toBeGreaterThan(0.001)
    await shot(page, 'paused')
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await expect.poll(() => vmState(page), { timeout: 30_000 }).toBe('Running')
  })

  it('types a command on the canvas with the keyboard, and its output shows on the serial tab', async () => {
    const canvas = page.getByTestId('vm-display')
    await canvas.click()
    await typeOnKeyboard(page, 'echo typed-$((6*7)) >/dev/ttyS0\n')
    await shot(page, 'typed')
    await page.getByRole('tab', { name: 'Serial console' }).click()
    await expect.poll(() => consoleText(page), { timeout: 30_000, interval: 500 }).toContain('typed-42')
    await shot(page, 'typed-output')
    await page.getByRole('tab', { name: 'Display' }).click()
  })

  it('saves a screenshot as a PNG download', async () => {
    const download = page.waitForEvent('download', { timeout: 30_000 })
    await page.getByRole('button', { name: 'Save a screenshot' }).click()
    const d = await download
    const path = await d.path()
    const png = readFileSync(path)
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(d.suggestedFilename()).toMatch(/\.png$/)
  })

  it('hot-plugs a disk into the running guest in the Devices dialog, and takes it out again', async () => {
    await page.getByRole('button', { name: 'Devices', exact: true }).click()
    const dialog = page.getByRole('dialog')
    const add = dialog.getByRole('group', { name: 'Add disk' })
    await add.getByLabel('Size of the new disk').fill('32M')
    await add.getByRole('button', { name: 'Add disk' }).click()
    await dialog.getByRole('group', { name: 'Disk disk1' }).waitFor({ timeout: 30_000 })
    await shot(page, 'devices-hotplugged')
    // The guest has it: 32 MiB in 512-byte sectors.
    await guestSays(host.dataDir, NAME, 'echo VDB-$(cat /sys/block/vdb/size)-END', 'VDB-65536-END')
    await dialog.getByRole('button', { name: 'Remove disk disk1' }).click()
    await page
      .getByRole('dialog', { name: 'Remove the disk disk1?' })
      .getByRole('button', { name: 'Remove' })
      .click()
    await dialog.getByRole('group', { name: 'Disk disk1' }).waitFor({ state: 'detached', timeout: 60_000 })
    await guestSays(host.dataDir, NAME, 'echo VDB-$(ls /sys/block | grep -c vdb)-END', 'VDB-0-END')
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached', timeout: 10_000 })
  })

  it('takes a live snapshot, reverts to it and deletes it by clicking', async () => {
    await page.getByRole('tab', { name: 'Snapshots' }).click()
    await page.getByRole('button', { name: 'Take snapshot' }).click()
    const take = page.getByRole('dialog', { name: 'Take a snapshot' })
    await take.getByLabel('Snapshot name').fill('before the mark')
    await take.getByRole('button', { name: 'Take' }).click()
    const row = page.getByRole('listitem', { name: 'Snapshot before the mark (current)' })
    await row.waitFor({ timeout: 60_000 })
    expect(await row.textContent()).toMatch(/memory and disks/)
    await shot(page, 'snapshot-taken')
    // Something the snapshot does not have: a file in the guest's memory-backed /tmp.
    await guestSays(host.dataDir, NAME, 'touch /tmp/mark; echo MADE-$((40+2))', 'MADE-42')
    await row.getByRole('button', { name: 'Revert' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revert to “before the mark”?' })
    expect(await confirm.textContent()).toMatch(/resumes exactly where it was/)
    await confirm.getByRole('button', { name: 'Revert' }).click()
    await page.getByText('Reverted to “before the mark”.').waitFor({ timeout: 60_000 })
    await expect.poll(() => vmState(page), { timeout: 30_000 }).toBe('Running')
    const after = await guestSays(
      host.dataDir,
      NAME,
      'test -e /tmp/mark && echo MARK-$((40+2)) || echo GONE-$((40+2))',
      '(MARK|GONE)-42',
    )
    expect(after).toMatch(/GONE-42/)
    await row.getByRole('button', { name: 'Delete' }).click()
    await page
      .getByRole('dialog', { name: 'Delete “before the mark”?' })
      .getByRole('button', { name: 'Delete' })
      .click()
    await page.getByText('No snapshots yet. Take one before a risky change.').waitFor({ timeout: 60_000 })
    await shot(page, 'snapshot-deleted')
    await page.getByRole('tab', { name: 'Display' }).click()
  })

  it('ejects the disc of the running guest in the Devices dialog', async () => {
    await page.getByRole('button', { name: 'Devices', exact: true }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText(`Drive cd0: ${guest.iso}`).waitFor({ timeout: 10_000 })
    await dialog.getByRole('button', { name: 'Eject' }).click()
    await dialog.getByText('Drive cd0: empty').waitFor({ timeout: 20_000 })
    await shot(page, 'devices-ejected')
    const vm = JSON.parse(await vireoOk(host.dataDir, ['info', NAME, '--json'])) as VmInfo
    expect(vm.config.cdroms[0]!.path).toBeNull()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached', timeout: 10_000 })
  })

  it('shuts the guest down through ACPI from the toolbar', async () => {
    await page.getByRole('button', { name: 'Shut down', exact: true }).click()
    await page.getByText('This VM is stopped.').waitFor({ timeout: 90_000 })
    expect(await vmState(page)).toBe('Stopped')
    await shot(page, 'stopped')
  })

  it('changes the memory and boot order of the stopped VM in its settings', async () => {
    await page.getByRole('button', { name: 'Settings', exact: true }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Memory').fill('320')
    await dialog.getByRole('button', { name: 'Boot from CD/DVD earlier' }).click()
    await shot(page, 'settings')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached', timeout: 10_000 })
    const vm = JSON.parse(await vireoOk(host.dataDir, ['info', NAME, '--json'])) as VmInfo
    expect(vm.config.memoryMiB).toBe(320)
    expect(vm.config.bootOrder).toEqual(['cdrom', 'disk'])
  })

  it('changes the network card of the stopped VM in the Devices dialog', async () => {
    await page.getByRole('button', { name: 'Devices', exact: true }).click()
    const card = page.getByRole('dialog').getByRole('group', { name: 'Network card net0' })
    await card.getByLabel('Model of net0').click()
    await page.getByRole('option', { name: 'Intel e1000 (emulated)' }).click()
    await card.getByText('Works in nearly every guest without extra drivers.').waitFor({ timeout: 5_000 })
    await card.getByRole('button', { name: 'Save card net0' }).click()
    await page.getByRole('dialog').getByText('Saved the card net0.').waitFor({ timeout: 20_000 })
    await shot(page, 'devices-nic')
    const vm = JSON.parse(await vireoOk(host.dataDir, ['info', NAME, '--json'])) as VmInfo
    expect(vm.config.nics[0]!.model).toBe('e1000')
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click()
    expect(pageErrors).toEqual([])
  })
})

/** The share of the display canvas's pixels that are not black. */
function canvasLitFraction(p: Page): Promise<number> {
  return p.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="vm-display"]')
    const ctx = c?.getContext('2d')
    if (!c || !ctx || c.width === 0) return 0
    const px = ctx.getImageData(0, 0, c.width, c.height).data
    let lit = 0
    for (let i = 0; i < px.length; i += 4) if (px[i]! + px[i + 1]! + px[i + 2]! > 30) lit++
    return lit / (px.length / 4)
  })
}

/** Draws the engine's PNG in the page and compares it pixel by pixel with the display canvas. */
function compareCanvasWithPng(p: Page, pngBase64: string) {
  return p.evaluate(async (b64) => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="vm-display"]')!
    const img = new Image()
    img.src = `data:image/png;base64,${b64}`
    await img.decode()
    const ref = document.createElement('canvas')
    ref.width = img.width
    ref.height = img.height
    const rctx = ref.getContext('2d')!
    rctx.drawImage(img, 0, 0)
    const a = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
    const b = rctx.getImageData(0, 0, ref.width, ref.height).data
    let matching = 0
    let lit = 0
    const n = Math.min(a.length, b.length) / 4
    for (let i = 0; i < n * 4; i += 4) {
      const close =
        Math.abs(a[i]! - b[i]!) <= 8 &&
        Math.abs(a[i + 1]! - b[i + 1]!) <= 8 &&
        Math.abs(a[i + 2]! - b[i + 2]!) <= 8
      if (close) matching++
      if (a[i]! + a[i + 1]! + a[i + 2]! > 30) lit++
    }
    return {
      size: [c.width, c.height],
      pngSize: [img.width, img.height],
      matching: matching / n,
      lit: lit / n,
    }
  }, pngBase64)
}
