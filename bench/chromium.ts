// Debian's Chromium, driven over the DevTools protocol with only what the display benchmark needs:
// open a tab, navigate, evaluate. Not Playwright, whose pages always have the Network domain on:
// Chromium then copies every WebSocket message, base64-encoded, to the debugger, and Playwright
// parses it. For a viewer receiving 90 MB/s that cost more than the viewer itself (measured here:
// Chromium's renderer at 46 % of a core instead of 22 % for the same 13 frames/s), and no user's
// browser has a debugger attached.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { CHROMIUM_ARGS } from '../test/e2e/support.ts'

export interface Tab {
  navigate(url: string): Promise<void>
  /** Evaluates a JavaScript expression in the page, awaiting a promise, and returns its value. */
  evaluate<T>(expression: string): Promise<T>
  /** Polls `expression` until it is truthy. */
  waitFor(expression: string, timeoutMs: number): Promise<void>
  close(): Promise<void>
}

export interface Chromium {
  newTab(width: number, height: number): Promise<Tab>
  close(): Promise<void>
}

interface Reply {
  id?: number
  result?: unknown
  error?: { message: string }
}

export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'vireo-bench-chromium-'))
  // --remote-debugging-pipe: the protocol on fds 3 (to Chromium) and 4 (from it), messages ending in NUL.
  const child = spawn(
    '/usr/bin/chromium',
    [
      ...CHROMIUM_ARGS,
      '--headless',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      // Both viewers are measured in the only open tab; nothing may throttle it as a background one.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
  const toChromium = child.stdio[3] as Writable
  const fromChromium = child.stdio[4] as Readable
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  let nextId = 1
  let buffered = ''
  let exited = false
  fromChromium.setEncoding('utf8').on('data', (d: string) => {
    buffered += d
    let end: number
    while ((end = buffered.indexOf('\0')) >= 0) {
      const reply = JSON.parse(buffered.slice(0, end)) as Reply
      buffered = buffered.slice(end + 1)
      const w = reply.id === undefined ? undefined : waiting.get(reply.id)
      if (!w) continue
      waiting.delete(reply.id!)
      if (reply.error) w.reject(new Error(reply.error.message))
      else w.resolve(reply.result)
    }
  })
  child.once('exit', () => {
    exited = true
    for (const w of waiting.values()) w.reject(new Error(`Chromium exited: ${stderr}`))
    waiting.clear()
  })
  const send = <T>(method: string, params: object = {}, sessionId?: string): Promise<T> => {
    if (exited) return Promise.reject(new Error(`Chromium exited: ${stderr}`))
    const id = nextId++
    return new Promise<T>((resolvePromise, reject) => {
      waiting.set(id, { resolve: resolvePromise as (v: unknown) => void, reject })
      toChromium.write(JSON.stringify({ id, method, params, sessionId }) + '\0')
    })
  }
  // The browser answers once it is up.
  await send('Browser.getVersion')

  return {
    async newTab(width, height) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', {
        url: 'about:blank',
        newWindow: true,
        width,
        height,
      })
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      })
      const evaluate = async <T>(expression: string): Promise<T> => {
        const r = await send<{
          result: { value?: unknown }
          exceptionDetails?: { exception?: { description?: string }; text: string }
        }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId)
        if (r.exceptionDetails) {
          throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text)
        }
        return r.result.value as T
      }
      return {
        async navigate(url) {
          await send('Page.navigate', { url }, sessionId)
        },
        evaluate,
        async waitFor(expression, timeoutMs) {
          const until = Date.now() + timeoutMs
          for (;;) {
            // Mid-navigation the page's context may be gone for a moment: that is "not yet".
            if (await evaluate<boolean>(`!!(${expression})`).catch(() => false)) return
            if (Date.now() > until) throw new Error(`timed out waiting for ${expression}`)
            await new Promise((r) => setTimeout(r, 100))
          }
        },
        async close() {
          await send('Target.closeTarget', { targetId })
        },
      }
    },
    async close() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r))
        await send('Browser.close').catch(() => undefined)
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))])
        if (!exited) child.kill('SIGKILL')
      }
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
