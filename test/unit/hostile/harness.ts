// A real engine over the in-process transport, spoken to in raw messages as a hostile client would:
// params of any shape go straight through serveRpc into the engine's handlers. Every refusal is
// checked the same way: its code and exact sentence, never `internal`, and nothing written.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { RpcErrorBody } from '../../../engine/api/errors.ts'
import { serveRpc } from '../../../engine/api/server.ts'
import type { Transport } from '../../../engine/api/transport.ts'
import { inProcessPair } from '../../../engine/api/transports/in-process.ts'
import { Engine } from '../../../engine/engine.ts'

export interface Reply {
  id: number
  result?: unknown
  error?: RpcErrorBody
}

export interface HostileEngine {
  engine: Engine
  dataDir: string
  /** A scratch folder outside the data dir, for files a test makes. */
  scratch: string
  /** Sends one request with these params exactly as given (no client-side checks). */
  call(method: string, params?: unknown): Promise<Reply>
  /** Sends any message at all and returns the first reply to it. */
  send(message: unknown): Promise<Reply>
  /** A stopped TCG VM with one NAT card (net0), for the tests that change one. */
  makeVm(name: string): Promise<{ id: string; name: string }>
  /** Every file and folder in the data dir, with sizes: equal before and after a refusal. */
  snapshot(): string[]
  close(): Promise<void>
}

export async function startEngine(): Promise<HostileEngine> {
  const root = mkdtempSync(join(tmpdir(), 'vireo-hostile-'))
  const dataDir = join(root, 'data')
  const scratch = join(root, 'scratch')
  mkdirSync(scratch, { recursive: true })
  mkdirSync(dataDir, { recursive: true })
  const env = { ...process.env, XDG_CACHE_HOME: join(root, 'cache'), XDG_RUNTIME_DIR: join(root, 'run') }
  const engine = new Engine({ dataDir, env })
  await engine.init()
  const [server, client] = inProcessPair()
  serveRpc(server, engine)
  const waiting = new Map<number, (r: Reply) => void>()
  let next: ((r: Reply) => void) | null = null
  client.onMessage((m) => {
    const r = m as Reply & { type?: string }
    if (r.type !== 'response') return
    const w = waiting.get(r.id)
    if (w) {
      waiting.delete(r.id)
      w(r)
    } else if (next) {
      const n = next
      next = null
      n(r)
    }
  })
  let id = 1
  const call = (method: string, params?: unknown) => {
    const mine = id++
    return new Promise<Reply>((resolve) => {
      waiting.set(mine, resolve)
      client.send({ type: 'request', id: mine, method, ...(params === undefined ? {} : { params }) })
    })
  }
  const t: HostileEngine = {
    engine,
    dataDir,
    scratch,
    call,
    send: (message) =>
      new Promise<Reply>((resolve) => {
        next = resolve
        ;(client as Transport).send(message)
      }),
    async makeVm(name) {
      const r = await call('vm.create', { name, accelerator: 'tcg', bootOrder: ['cdrom', 'disk'] })
      if (r.error) throw new Error(`could not make ${name}: ${r.error.message}`)
      const vm = r.result as { id: string; name: string }
      return { id: vm.id, name: vm.name }
    },
    snapshot: () => listTree(dataDir),
    async close() {
      client.close()
      await engine.dispose()
      rmSync(root, { recursive: true, force: true })
    },
  }
  return t
}

function listTree(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir, { recursive: true }).map(String)
  } catch {
    return []
  }
  return names.map((n) => `${n} ${statSync(join(dir, n)).size}`).sort()
}

/** A refusal: this code and this sentence (or a regex that pins it), not `internal`. */
export function expectRefused(r: Reply, code: string, message: string | RegExp): void {
  expect(r.result, 'the request was accepted').toBeUndefined()
  expect(r.error?.code).not.toBe('internal')
  expect(r.error?.code).toBe(code)
  if (typeof message === 'string') expect(r.error?.message).toBe(message)
  else expect(r.error?.message).toMatch(message)
  // One sentence on one line, whatever the input held.
  expect(r.error?.message).not.toMatch(/\p{Cc}/u)
}

/** Calls, expects the refusal, and checks that the data dir is as it was. */
export async function refusedWithoutTrace(
  t: HostileEngine,
  method: string,
  params: unknown,
  code: string,
  message: string | RegExp,
): Promise<void> {
  const before = t.snapshot()
  expectRefused(await t.call(method, params), code, message)
  expect(t.snapshot()).toEqual(before)
}
