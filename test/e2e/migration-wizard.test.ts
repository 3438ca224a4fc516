// Two hosts and the renderer in Debian's Chromium: a new user pairs this host with another by its
// code in the Add host dialog, the other host appears under Other hosts, and the migration wizard
// moves the running test guest there (destination → compatibility report → options → progress →
// result with the measured downtime). The guest's counter then goes on on the other host.
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { guestSays, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'
import { COUNTER } from '../support/test-vm.ts'
import {
  artifacts,
  ensureRendererBuild,
  launchChromium,
  recordConsole,
  serve,
  type ServedHost,
} from './support.ts'

const guest = requireTestGuest()
let here: ServedHost
let there: ServedHost
let browser: Browser
let page: Page
const shot = artifacts('migration-wizard')

async function lastCount(dataDir: string): Promise<number> {
  const seen = await vireoOk(dataDir, [
    'console',
    'traveller',
    '--expect',
    'COUNT-\\d+\\r?\\n',
    '--timeout',
    '30',
  ])
  return Number([...seen.matchAll(/COUNT-(\d+)/g)].at(-1)?.[1] ?? -1)
}

describe('migration wizard end to end', () => {
  beforeAll(async () => {
    ensureRendererBuild()
    ;[here, there] = await Promise.all([serve(), serve()])
    await vireoOk(here.dataDir, [
      'create',
      'traveller',
      '--iso',
      guest.iso,
      '--memory',
      '256',
      '--disk-size',
      '32M',
    ])
    await vireoOk(here.dataDir, ['start', 'traveller'])
    await vireoOk(
      here.dataDir,
      ['console', 'traveller', '--expect', GUEST_MARKER, '--timeout', '180'],
      200_000,
    )
    await guestSays(here.dataDir, 'traveller', `${COUNTER} echo C-$((2+3))`, 'C-5')
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    recordConsole(page, 'migration-wizard')
    await page.goto(`http://127.0.0.1:${here.port}/#token=${here.token}`)
    await page.getByRole('heading', { name: 'Virtual machines', exact: true }).waitFor({ timeout: 20_000 })
  }, 300_000)
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && page) await shot(page, 'FAILED', { dom: true }).catch(() => {})
  })
  afterAll(async () => {
    await browser?.close()
    await Promise.all([here?.stop(), there?.stop()])
  }, 120_000)

  it('pairs with the other host by its code', async () => {
    const { code } = JSON.parse(await vireoOk(there.dataDir, ['host', 'pair-code', '--json'])) as {
      code: string
    }
    await page.getByRole('button', { name: 'Add host' }).click()
    const dialog = page.getByRole('dialog', { name: 'Add host' })
    await dialog.getByRole('textbox', { name: 'Name' }).fill('other')
    await dialog.getByRole('textbox', { name: 'Address' }).fill(`127.0.0.1:${there.port}`)
    await dialog.getByRole('textbox', { name: 'Pairing code' }).fill(code)
    await shot(page, 'add-host')
    await dialog.getByRole('button', { name: 'Pair' }).click()
    await page.getByRole('article', { name: 'Host other' }).waitFor({ timeout: 20_000 })
    await shot(page, 'paired')
  }, 60_000)

  it('moves the running guest with the wizard, and it keeps counting there', async () => {
    const before = await lastCount(here.dataDir)
    await page.getByRole('button', { name: 'More actions for traveller' }).click()
    await page.getByRole('menuitem', { name: 'Move to another host…' }).click()
    const wizard = page.getByRole('dialog', { name: 'Move a VM to another host' })
    // Opened from the VM, it comes chosen.
    expect(await wizard.getByRole('radio', { name: 'traveller — Running' }).isChecked()).toBe(true)
    await wizard.getByRole('button', { name: 'Next' }).click()
    await wizard.getByRole('radio', { name: /^other \(/ }).check()
    await wizard.getByRole('button', { name: 'Next' }).click()
    const report = wizard.getByRole('region', { name: 'Compatibility report' })
    await report.waitFor({ timeout: 30_000 })
    await expect.poll(() => report.getByRole('listitem', { name: /not ok$/ }).count()).toBe(0)
    expect(await report.getByRole('listitem', { name: 'QEMU version: ok' }).count()).toBe(1)
    await shot(page, 'report')
    await wizard.getByRole('button', { name: 'Next' }).click()
    await wizard.getByRole('radio', { name: /^Live/ }).waitFor()
    expect(await wizard.getByRole('radio', { name: /^Live/ }).isChecked()).toBe(true)
    await shot(page, 'options')
    await wizard.getByRole('button', { name: 'Start migration' }).click()
    const result = wizard.getByRole('region', { name: 'Migration result' })
    await result.waitFor({ timeout: 300_000 })
    await shot(page, 'result')
    expect(await result.getByLabel('Downtime').innerText()).toMatch(/\d+ ms/)
    await wizard.getByRole('button', { name: 'Close' }).click()

    // The library now shows it under the other host, running.
    const other = page.getByRole('article', { name: 'Host other' })
    await expect
      .poll(() => other.getByRole('row', { name: 'traveller on other' }).innerText(), { timeout: 20_000 })
      .toMatch(/traveller[\s\S]*Running/)
    await shot(page, 'library-after')
    const info = await vmInfo(there.dataDir, 'traveller')
    expect(info.state).toBe('running')
    await expect.poll(() => lastCount(there.dataDir), { timeout: 30_000 }).toBeGreaterThan(before)
  }, 400_000)
})
