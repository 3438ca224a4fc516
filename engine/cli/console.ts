// `vireo console`: interactive on a terminal; scripted with --send/--expect (exit 0 on a match,
// 1 on timeout, 2 on error), printing what was seen.
import type { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import { safe, safeBlock } from './plain-text.ts'

export interface ConsoleOptions {
  send?: string
  expect?: string
  timeout: number
}

export async function runConsole(client: RpcClient, vm: string, o: ConsoleOptions): Promise<number> {
  if (o.send === undefined && o.expect === undefined) return interactive(client, vm)
  let re: RegExp | null = null
  if (o.expect !== undefined) {
    try {
      re = new RegExp(o.expect, 'm')
    } catch (err) {
      throw new VireoError(
        'invalid_request',
        `--expect is not a valid regular expression: ${(err as Error).message}`,
      )
    }
  }
  const stream = await client.openStream('console', vm)
  const decoder = new TextDecoder()
  let seen = ''
  let from = 0
  return await new Promise<number>((resolvePromise) => {
    let done = false
    const finish = (code: number) => {
      if (done) return
      done = true
      clearTimeout(timer)
      // A script reads the guest's bytes as they came; a person's terminal gets them escaped (the
      // guest's colours show as \x1b[…m rather than acting), line breaks kept.
      const out = seen.slice(from)
      process.stdout.write(process.stdout.isTTY ? safeBlock(out.replace(/\r\n/g, '\n')) : out)
      if (!out.endsWith('\n')) process.stdout.write('\n')
      void stream.close().catch(() => undefined)
      resolvePromise(code)
    }
    const timer = setTimeout(() => finish(1), o.timeout * 1000)
    const check = () => {
      if (re && re.test(seen.slice(from))) finish(0)
    }
    stream.onEnd(() => {
      check()
      finish(done ? 0 : 2)
    })
    let sent = false
    // History arrives first (everything since this boot); then, with --send, only later output counts.
    stream.onData((b) => {
      seen += decoder.decode(b, { stream: true })
      if (o.send === undefined || sent) check()
    })
    if (o.send !== undefined) {
      from = seen.length
      stream.write(o.send)
      sent = true
      if (!re) setTimeout(() => finish(0), 300)
    }
  })
}

async function interactive(client: RpcClient, vm: string): Promise<number> {
  const stream = await client.openStream('console', vm)
  const stdin = process.stdin
  if (stdin.isTTY) {
    process.stderr.write(`Connected to ${safe(vm)}'s serial console. Press Ctrl+] to leave.\n`)
    stdin.setRawMode(true)
  }
  return await new Promise<number>((resolvePromise) => {
    const leave = (code: number) => {
      if (stdin.isTTY) stdin.setRawMode(false)
      stdin.pause()
      void stream.close().catch(() => undefined)
      resolvePromise(code)
    }
    stream.onData((b) => process.stdout.write(b))
    stream.onEnd((reason) => {
      process.stderr.write(`\n[${safe(reason)}]\n`)
      leave(0)
    })
    stdin.on('data', (chunk: Buffer) => {
      if (chunk.includes(0x1d)) return leave(0)
      stream.write(new Uint8Array(chunk))
    })
    stdin.on('end', () => leave(0))
  })
}
