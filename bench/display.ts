// The display path, measured where the user sees it: a guest repaints its whole 1024x768 screen
// without pause (scripts/test-guest/repaint), and Chromium shows it through Vireo's renderer
// (`vireo serve`, the VM's view as a user opens it) and, in alternating rounds against the same
// QEMU, through Debian's noVNC 1.3 + websockify. Both pages are measured by the same code.
//
// Every guest frame carries its number in its first pixels. On every animation frame the page reads
// them from the canvas (getImageData), so it knows which guest frame the user sees:
// - fps = distinct guest frames that reached the canvas per second (guestFps: how many the guest
//   painted; bareRawClientFps: how many QEMU hands a client that only receives, asking for Raw);
// - delay = when a frame first showed on the canvas, minus when such a bare client, connected
//   straight to QEMU's VNC socket, finished receiving the same frame. Both times are Date.now() of
//   this machine (the page's clock is the host's clock), so no guest clock needs to be trusted. Left
//   out, the same for every viewer: QEMU's wait for its next refresh (every 30 ms at best) and
//   sending the frame to a minimal client. Included besides the viewer's work: up to one animation
//   frame (16.7 ms) before the page looks, as the next paint would anyway.
// The bare client costs the machine a copy of every frame, so delay is measured in rounds of its
// own, not during the fps rounds. Chromium is driven without Playwright (see chromium.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer, type AddressInfo } from 'node:net'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import type { VmInfo } from '../engine/api/rpc.ts'
import { Encodings, RfbClient } from '../renderer/display/rfb-client.ts'
import { vireo, vireoOk } from '../test/support/cli.ts'
import { GUEST_MARKER, guestDir } from '../test/support/guest.ts'
import { ensureRendererBuild, serve } from '../test/e2e/support.ts'
import { launchChromium, type Chromium, type Tab } from './chromium.ts'

const SECONDS = Number(process.env.VIREO_BENCH_DISPLAY_SECONDS ?? 8)
const ROUNDS = Number(process.env.VIREO_BENCH_DISPLAY_ROUNDS ?? 2)
const DELAY_SECONDS = Number(process.env.VIREO_BENCH_DISPLAY_DELAY_SECONDS ?? 6)
/** Each page draws for this long before it is measured (first full frame, JIT warm-up). */
const WARMUP_MS = 1500
const NOVNC = '/usr/share/novnc'
const VM = 'display bench'
const KINDS = ['random', 'flat'] as const
type Kind = (typeof KINDS)[number]
type Viewer = 'vireo' | 'novnc'

/**
 * The guest frame number in the first four pixels (RGBA), or -1. The guest writes the bytes
 * "ddd ddd ddd VIR " at the start of its BGRX framebuffer: three digits per pixel in B, G, R, then
 * "VIR" as a check. Runs in the page as well as here, so it uses nothing from outside itself.
 */
function frameNumber(px: ArrayLike<number>): number {
  if (px[12] !== 82 || px[13] !== 73 || px[14] !== 86) return -1
  let n = 0
  for (let k = 0; k < 3; k++) {
    const hundreds = px[k * 4 + 2]! - 48
    const tens = px[k * 4 + 1]! - 48
    const units = px[k * 4]! - 48
    if (hundreds < 0 || hundreds > 9 || tens < 0 || tens > 9 || units < 0 || units > 9) return -1
    n = n * 1000 + hundreds * 100 + tens * 10 + units
  }
  return n
}

interface CanvasRun {
  seconds: number
  /** [guest frame number, Date.now()] for each frame when it first showed on the canvas. */
  shown: Array<[number, number]>
}

/** Runs in the page: watches the canvas at every animation frame. */
function watchCanvas(
  decode: typeof frameNumber,
  opts: { selector: string; warmupMs: number; ms: number },
): Promise<CanvasRun> {
  return new Promise((resolvePromise, reject) => {
    const c = document.querySelector<HTMLCanvasElement>(opts.selector)
    const ctx = c?.getContext('2d')
    if (!c || !ctx) {
      reject(new Error(`no canvas at ${opts.selector}`))
      return
    }
    const shown: Array<[number, number]> = []
    let last = -1
    let t0 = -1
    const start = performance.now()
    const tick = () => {
      const now = performance.now()
      if (now - start >= opts.warmupMs) {
        if (t0 < 0) t0 = now
        const n = decode(ctx.getImageData(0, 0, 4, 1).data)
        if (n >= 0 && n !== last) {
          last = n
          shown.push([n, Date.now()])
        }
      }
      if (t0 >= 0 && now - t0 >= opts.ms) resolvePromise({ seconds: (now - t0) / 1000, shown })
      else requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })
}

function measureCanvas(tab: Tab, selector: string, seconds: number): Promise<CanvasRun> {
  // The page gets both functions as source text (Node has stripped their types already).
  const opts = { selector, warmupMs: WARMUP_MS, ms: seconds * 1000 }
  return tab.evaluate<CanvasRun>(
    `(${watchCanvas.toString()})(${frameNumber.toString()}, ${JSON.stringify(opts)})`,
  )
}

function waitForCanvas(tab: Tab, selector: string): Promise<void> {
  const c = `document.querySelector(${JSON.stringify(selector)})`
  return tab.waitFor(`${c} && ${c}.width === 1024 && ${c}.height === 768`, 60_000)
}

/** A bare RFB client on QEMU's socket: when each guest frame was first fully received. */
function referenceViewer(vncSocket: string): { received: Map<number, number>; close(): void } {
  const received = new Map<number, number>()
  const sock = connect(vncSocket)
  const rfb = new RfbClient({
    send: (b) => sock.write(b),
    encodings: [Encodings.Raw],
    onEvent: (e) => {
      if (e.type !== 'raw' || e.x !== 0 || e.y !== 0 || e.width < 4) return
      const n = frameNumber(e.rgba)
      if (n >= 0 && !received.has(n)) received.set(n, Date.now())
    },
  })
  sock.on('data', (b: Buffer) => rfb.receive(b))
  sock.on('error', () => undefined)
  return { received, close: () => sock.destroy() }
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
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const at = (s.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo)
}
const median = (xs: number[]) => quantile(xs, 0.5)

export async function benchDisplay() {
  ensureRendererBuild()
  const host = await serve()
  let browser: Chromium | null = null
  try {
    browser = await launchChromium()
    const iso = join(guestDir, 'display-guest.iso')
    await vireoOk(host.dataDir, ['create', VM, '--iso', iso, '--memory', '256', '--nic', 'none'])
    await vireoOk(host.dataDir, ['start', VM])
    await vireoOk(host.dataDir, ['console', VM, '--expect', GUEST_MARKER, '--timeout', '180'])
    const info = JSON.parse(await vireoOk(host.dataDir, ['info', VM, '--json'])) as VmInfo
    const vncSocket = join(info.runtime!.runtimeDir, 'vnc.sock')
    const novnc = await websockify(vncSocket)
    const b = browser

    const open = async (viewer: Viewer): Promise<{ tab: Tab; selector: string }> => {
      const tab = await b.newTab(1280, 900)
      if (viewer === 'vireo') {
        // Vireo as a user opens it: signed in with the token, the VM opened from the library,
        // default scaling.
        await tab.navigate(`http://127.0.0.1:${host.port}/#token=${host.token}`)
        const link = `document.querySelector('tr[data-vm-id="${info.id}"] th button')`
        await tab.waitFor(link, 60_000)
        await tab.evaluate(`${link}.click()`)
        const selector = '[data-testid="vm-display"]'
        await waitForCanvas(tab, selector)
        return { tab, selector }
      }
      await tab.navigate(
        `http://127.0.0.1:${novnc.port}/vnc_lite.html?host=127.0.0.1&port=${novnc.port}&scale=false`,
      )
      const selector = '#screen canvas'
      await waitForCanvas(tab, selector)
      return { tab, selector }
    }
    const run = async (viewer: Viewer, seconds: number): Promise<CanvasRun> => {
      const { tab, selector } = await open(viewer)
      try {
        return await measureCanvas(tab, selector, seconds)
      } finally {
        await tab.close()
      }
    }

    // Other work on the machine shows in every figure here; the load averages say how much there was.
    const loadBefore = loadavg().map(round1)
    const fps: Record<Kind, Record<Viewer, number[]>> = {
      random: { vireo: [], novnc: [] },
      flat: { vireo: [], novnc: [] },
    }
    const guestFps: Record<Kind, number[]> = { random: [], flat: [] }
    const bareFps: Record<Kind, number> = { random: NaN, flat: NaN }
    const delays: Record<Kind, Record<Viewer, { ms: number[]; unmatched: number }>> = {
      random: { vireo: { ms: [], unmatched: 0 }, novnc: { ms: [], unmatched: 0 } },
      flat: { vireo: { ms: [], unmatched: 0 }, novnc: { ms: [], unmatched: 0 } },
    }
    try {
      for (const kind of KINDS) {
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
        for (let i = 0; i < ROUNDS; i++) {
          // Who goes first alternates, so neither always meets a warmer or cooler machine.
          const order: Viewer[] = i % 2 === 0 ? ['vireo', 'novnc'] : ['novnc', 'vireo']
          for (const viewer of order) {
            const m = await run(viewer, SECONDS)
            fps[kind][viewer].push(m.shown.length / m.seconds)
            if (m.shown.length > 1) {
              guestFps[kind].push((m.shown.at(-1)![0] - m.shown[0]![0]) / m.seconds)
            }
          }
        }
        // What QEMU hands a client that does nothing but receive (Raw): the ceiling for any viewer.
        const bare = referenceViewer(vncSocket)
        try {
          await new Promise((r) => setTimeout(r, WARMUP_MS))
          const t0 = Date.now()
          await new Promise((r) => setTimeout(r, DELAY_SECONDS * 1000))
          const seconds = (Date.now() - t0) / 1000
          bareFps[kind] = [...bare.received.values()].filter((t) => t >= t0).length / seconds
        } finally {
          bare.close()
        }
        for (const viewer of ['vireo', 'novnc'] as const) {
          const ref = referenceViewer(vncSocket)
          try {
            const m = await run(viewer, DELAY_SECONDS)
            for (const [n, t] of m.shown) {
              const t0 = ref.received.get(n)
              if (t0 === undefined) delays[kind][viewer].unmatched++
              else delays[kind][viewer].ms.push(t - t0)
            }
          } finally {
            ref.close()
          }
        }
        // Stop this repaint before the next kind starts ($! is the shell's last background job).
        await vireo(host.dataDir, [
          'console',
          VM,
          '--send',
          'kill $!; echo STOPPED-$((40+2))\n',
          '--expect',
          'STOPPED-42',
        ])
      }
    } finally {
      novnc.child.kill()
    }

    const viewerSummary = (kind: Kind, viewer: Viewer) => {
      const d = delays[kind][viewer]
      return {
        fps: fps[kind][viewer].map(round1),
        medianFps: round1(median(fps[kind][viewer])),
        delayMs: {
          median: Math.round(median(d.ms)),
          p90: Math.round(quantile(d.ms, 0.9)),
          frames: d.ms.length,
          // Frames the page showed that the bare client never received whole (it skipped them).
          unmatched: d.unmatched,
        },
      }
    }
    const summary = (kind: Kind) => {
      const v = viewerSummary(kind, 'vireo')
      const n = viewerSummary(kind, 'novnc')
      return {
        guestFps: round1(median(guestFps[kind])),
        bareRawClientFps: round1(bareFps[kind]),
        vireo: v,
        novnc: n,
        fpsRatio: round1(v.medianFps / n.medianFps),
      }
    }
    return {
      what: `guest frames/s reaching the canvas in Chromium while the guest repaints 1024x768 without pause, ${SECONDS} s per round, ${ROUNDS} alternating rounds; delay from a bare RFB client's receipt of a frame to the canvas, ${DELAY_SECONDS} s per viewer; baseline Debian noVNC 1.3 + websockify on the same QEMU`,
      random: summary('random'),
      flat: summary('flat'),
      loadAverage: { before: loadBefore, after: loadavg().map(round1) },
      promise: 'video-like ≥ 5× noVNC; flat ≥ 30 fps',
    }
  } finally {
    await browser?.close()
    await host.stop()
  }
}
