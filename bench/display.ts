// The display path, measured where the user sees it: frames per second that reach the canvas in
// Chromium while the guest repaints its whole 1024x768 screen without pause, through Vireo's renderer
// (`vireo serve`) and, in alternating rounds against the same QEMU, through Debian's noVNC 1.3 +
// websockify. Both pages are measured by the same code: on every animation frame it samples the
// canvas's pixels, and a sample that differs from the previous one is a frame the user saw.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { VmInfo } from '../engine/api/rpc.ts'
import { vireo, vireoOk } from '../test/support/cli.ts'
import { GUEST_MARKER, guestDir } from '../test/support/guest.ts'
import { ensureRendererBuild, launchChromium, serve } from '../test/e2e/support.ts'

const SECONDS = Number(process.env.VIREO_BENCH_DISPLAY_SECONDS ?? 10)
const ROUNDS = Number(process.env.VIREO_BENCH_DISPLAY_ROUNDS ?? 2)
const NOVNC = '/usr/share/novnc'
const VM = 'display bench'

interface Sample {
  frames: number
  seconds: number
  fps: number
  canvas: [number, number]
}

/** Runs in the page: counts the animation frames on which the canvas showed something new. */
function measureCanvas(p: Page, selector: string, seconds: number): Promise<Sample> {
  return p.evaluate(
    ([sel, ms]) =>
      new Promise<Sample>((resolvePromise, reject) => {
        const c = document.querySelector<HTMLCanvasElement>(sel as string)
        const ctx = c?.getContext('2d')
        if (!c || !ctx) {
          reject(new Error(`no canvas at ${String(sel)}`))
          return
        }
        // Eight 32-pixel strips spread over the screen: any whole-screen repaint changes them.
        const sample = () => {
          let h = 0
          for (let i = 0; i < 8; i++) {
            const x = Math.floor(((i + 0.5) * c.width) / 8) - 16
            const y = Math.floor(((i + 0.5) * c.height) / 8)
            const d = ctx.getImageData(Math.max(0, x), y, 32, 1).data
            for (let j = 0; j < d.length; j++) h = (Math.imul(h, 31) + d[j]!) | 0
          }
          return h
        }
        let last = sample()
        let frames = 0
        const t0 = performance.now()
        const tick = () => {
          const h = sample()
          if (h !== last) {
            frames++
            last = h
          }
          const elapsed = performance.now() - t0
          if (elapsed < (ms as number)) requestAnimationFrame(tick)
          else {
            const seconds = elapsed / 1000
            resolvePromise({ frames, seconds, fps: frames / seconds, canvas: [c.width, c.height] })
          }
        }
        requestAnimationFrame(tick)
      }),
    [selector, seconds * 1000] as const,
  )
}

async function waitForCanvasSize(p: Page, selector: string): Promise<void> {
  await p.waitForFunction(
    (sel) => {
      const c = document.querySelector<HTMLCanvasElement>(sel)
      return !!c && c.width === 1024 && c.height === 768
    },
    selector,
    { timeout: 60_000 },
  )
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolvePromise(port))
    })
  })
}

async function websockify(vncSocket: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn('websockify', ['--web', NOVNC, `--unix-target=${vncSocket}`, `127.0.0.1:${port}`], {
    stdio: 'ignore',
  })
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = createServer()
      s.once('error', () => r(true))
      s.listen(port, '127.0.0.1', () => s.close(() => r(false)))
    })
    if (up) return { port, child }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  throw new Error('websockify did not start')
}

const round1 = (n: number) => Math.round(n * 10) / 10
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function benchDisplay() {
  ensureRendererBuild()
  const host = await serve()
  const browser = await launchChromium()
  try {
    const iso = join(guestDir, 'display-guest.iso')
    await vireoOk(host.dataDir, ['create', VM, '--iso', iso, '--memory', '256', '--nic', 'none'])
    await vireoOk(host.dataDir, ['start', VM])
    await vireoOk(host.dataDir, ['console', VM, '--expect', GUEST_MARKER, '--timeout', '180'])
    const info = JSON.parse(await vireoOk(host.dataDir, ['info', VM, '--json'])) as VmInfo
    const vncSocket = join(info.runtime!.runtimeDir, 'vnc.sock')
    const novnc = await websockify(vncSocket)

    const results: Record<string, { vireo: number[]; novnc: number[] }> = {}
    try {
      for (const kind of ['random', 'flat'] as const) {
        const r = await vireo(host.dataDir, [
          'console',
          VM,
          '--send',
          `repaint ${kind} &\n`,
          '--expect',
          `REPAINT-RUNNING ${kind} 1024,768`,
          '--timeout',
          '120',
        ])
        if (r.code !== 0) throw new Error(`repaint ${kind} did not start: ${r.stdout.slice(-300)}`)
        results[kind] = { vireo: [], novnc: [] }
        for (let i = 0; i < ROUNDS; i++) {
          // Vireo: its own page, signed in with the token, the VM's view open.
          const vp = await browser.newPage({ viewport: { width: 1280, height: 900 } })
          await vp.goto(`http://127.0.0.1:${host.port}/#token=${host.token}`)
          await vp.getByRole('button', { name: VM, exact: true }).click()
          await waitForCanvasSize(vp, '[data-testid="vm-display"]')
          results[kind].vireo.push((await measureCanvas(vp, '[data-testid="vm-display"]', SECONDS)).fps)
          await vp.close()
          // noVNC: its lite page through websockify, same QEMU, same guest.
          const np = await browser.newPage({ viewport: { width: 1280, height: 900 } })
          await np.goto(
            `http://127.0.0.1:${novnc.port}/vnc_lite.html?host=127.0.0.1&port=${novnc.port}&scale=false`,
          )
          await waitForCanvasSize(np, '#screen canvas')
          results[kind].novnc.push((await measureCanvas(np, '#screen canvas', SECONDS)).fps)
          await np.close()
        }
        // Stop this repaint before the next kind starts.
        await vireo(host.dataDir, [
          'console',
          VM,
          '--send',
          'kill %1; echo STOPPED-$((40+2))\n',
          '--expect',
          'STOPPED-42',
        ])
      }
    } finally {
      novnc.child.kill()
    }
    const summary = (k: string) => {
      const r = results[k]!
      const v = median(r.vireo)
      const n = median(r.novnc)
      return {
        vireoFps: r.vireo.map(round1),
        novncFps: r.novnc.map(round1),
        medianVireoFps: round1(v),
        medianNovncFps: round1(n),
        ratio: round1(v / n),
      }
    }
    return {
      what: `frames/s reaching the canvas in Chromium, guest repainting 1024x768 without pause, ${SECONDS} s per round, ${ROUNDS} alternating rounds; baseline Debian noVNC 1.3 + websockify on the same QEMU`,
      random: summary('random'),
      flat: summary('flat'),
      promise: 'video-like ≥ 5× noVNC; flat ≥ 30 fps',
    }
  } finally {
    await browser.close()
    await host.stop()
  }
}
