// The README's first command, run as a new user runs it: ./scripts/quickstart.sh with a data dir that
// does not exist yet and a HOME of its own (so the accelerator probe runs too), one real TCG boot.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RpcClient } from '../../engine/api/client.ts'
import type { VmSummary } from '../../engine/api/rpc.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'
import { vireo, vireoOk } from '../support/cli.ts'
import { repoRoot, requireTestGuest } from '../support/guest.ts'

requireTestGuest()
const VM = 'Vireo demo'
const SERVING = /^Vireo is serving (http:\/\/127\.0\.0\.1:(\d+)\/)#token=([A-Za-z0-9_-]{32,})$/m

const root = mkdtempSync(join(tmpdir(), 'vireo-quickstart-'))
const home = join(root, 'home')
mkdirSync(home)
const dataDir = join(root, 'fresh', 'data')
let script: ChildProcess | null = null

afterAll(async () => {
  await vireo(dataDir, ['host', 'stop', '--stop-vms'], 120_000)
  script?.kill('SIGTERM')
  rmSync(root, { recursive: true, force: true })
})

/** Starts the script; resolves once its stdout says where Vireo serves (the guest is up by then). */
function runQuickstart(): Promise<{ out: () => string; err: () => string; exit: Promise<number | null> }> {
  // A new user's environment: no cache or config dir but those under the fresh HOME.
  const { XDG_CACHE_HOME: _c, XDG_CONFIG_HOME: _f, XDG_RUNTIME_DIR: _r, ...env } = process.env
  // setup.sh runs in full except the renderer build, which is there already (and may be shared).
  const child = spawn(join(repoRoot, 'scripts', 'quickstart.sh'), [], {
    cwd: root,
    env: { ...env, HOME: home, VIREO_DATA_DIR: dataDir, VIREO_REUSE_BUILD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  script = child
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exit = new Promise<number | null>((r) => child.once('close', (code) => r(code)))
  return new Promise((resolvePromise, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      // The summary follows the serving line in one write; wait for its last line.
      if (SERVING.test(out) && out.includes('Ctrl+C stops the host'))
        resolvePromise({ out: () => out, err: () => err, exit })
    })
    void exit.then((code) => reject(new Error(`quickstart.sh exited ${code}:\n${err}\n${out}`)))
  })
}

function rpcWithToken(port: string, token: string): Promise<RpcClient> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, [`vireo.token.${token}`])
    ws.once('open', () => resolvePromise(new RpcClient(webSocketTransport(ws as unknown as WebSocketLike))))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

const modeOf = (p: string) => statSync(p).mode & 0o777

describe('./scripts/quickstart.sh on a fresh machine', () => {
  it('boots the demo VM, serves the app with a working token, and keeps the library private', async () => {
    const run = await runQuickstart()
    expect(run.err()).toContain('Waiting for the demo guest to boot')
    const [line, base, port, token] = SERVING.exec(run.out())!
    // The very line `vireo serve` prints, on a line of its own.
    expect(run.out().split('\n')).toContain(line)

    const page = await fetch(base!)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<title>Vireo</title>')
    expect(html).toContain('<div id="root">')

    const client = await rpcWithToken(port!, token!)
    const vms = await client.call('vm.list', {})
    client.close()
    expect(vms.find((v) => v.name === VM)?.state).toBe('running')
    await expect(rpcWithToken(port!, 'x'.repeat(32))).rejects.toThrow(/401/)
    const listed = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as VmSummary[]
    const demo = listed.find((v) => v.name === VM)
    expect(demo?.state).toBe('running')

    await vireoOk(dataDir, ['host', 'stop', '--stop-vms'], 120_000)
    // The host the script served was the one stopped: the script ends, and says nothing went wrong.
    expect(await run.exit).toBe(0)

    // mkdir -p: the parent got the usual mode, the data dir and all in it are the user's alone.
    const probe = join(root, 'probe')
    mkdirSync(probe)
    expect(modeOf(join(root, 'fresh'))).toBe(modeOf(probe))
    const vmDir = join(dataDir, 'vms', demo!.id)
    expect(modeOf(dataDir)).toBe(0o700)
    expect(modeOf(join(dataDir, 'vms'))).toBe(0o700)
    expect(modeOf(vmDir)).toBe(0o700)
    expect(modeOf(join(vmDir, 'disks'))).toBe(0o700)
    expect(modeOf(join(vmDir, 'disks', 'disk0.qcow2'))).toBe(0o600)
    expect(modeOf(join(vmDir, 'vm.json'))).toBe(0o600)
    expect(modeOf(join(vmDir, 'logs', 'serial.log'))).toBe(0o600)
    expect(modeOf(join(dataDir, 'token'))).toBe(0o600)
  })
})
