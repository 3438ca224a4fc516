// Pairing two hosts with a short one-time code and a PAKE (OPAQUE, from opaque-ke compiled to WASM
// by @serenity-kit/opaque): the code is never sent and never the key. An eavesdropper learns nothing
// it could brute-force offline; a host that guesses gets one try per connection, and a code dies
// after three wrong tries or five minutes. Both sides end with the same random session key, from
// which the pairing key is derived together with both host ids.
import { hkdfSync, randomInt } from 'node:crypto'
import * as opaque from '@serenity-kit/opaque'
import WebSocket from 'ws'
import { z } from 'zod'
import { VireoError } from '../api/errors.ts'
import { PAIR_CODE_ALPHABET } from '../api/migration.ts'

export const PAIR_PATH = '/peer/pair'
const CODE_TTL_MS = 5 * 60_000
const MAX_TRIES = 3
const PAIR_TIMEOUT_MS = 15_000
/** OPAQUE names the client; with a code shown for one pairing there is only ever this one. */
const USER = 'vireo-pairing'

const ClientMsg = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    hostId: z.uuid(),
    hostName: z.string().max(255),
    request: z.string().max(4096),
  }),
  z.object({ type: z.literal('finish'), request: z.string().max(4096) }),
  z.object({ type: z.literal('wrong-code') }),
])
const ServerMsg = z.discriminatedUnion('type', [
  z.object({ type: z.literal('challenge'), response: z.string().max(4096) }),
  z.object({ type: z.literal('paired'), hostId: z.uuid(), hostName: z.string().max(255) }),
  z.object({ type: z.literal('refused'), reason: z.string().max(1000) }),
])

export interface PairedHost {
  hostId: string
  hostName: string
  /** 32 bytes, hex. */
  key: string
}

export interface Self {
  hostId: string
  hostName: string
}

function pairingKey(sessionKey: string, clientId: string, serverId: string): string {
  return Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.from(sessionKey, 'base64url'),
      'vireo pairing v1',
      `${clientId} ${serverId}`,
      32,
    ),
  ).toString('hex')
}

export function formatCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

interface Pending {
  code: string
  expiresAt: number
  triesLeft: number
  setup: string
  record: string
}

/** The destination's side: issues codes and answers pairing connections. */
export class PairingServer {
  private pending: Pending | null = null
  private readonly self: Self
  private readonly onPaired: (peer: PairedHost) => void
  private readonly log: (line: string) => void

  constructor(self: Self, onPaired: (peer: PairedHost) => void, log: (line: string) => void) {
    this.self = self
    this.onPaired = onPaired
    this.log = log
  }

  /** A new code; an earlier one stops working. */
  async issue(now = Date.now()): Promise<{ code: string; expiresAt: number }> {
    await opaque.ready
    let code = ''
    for (let i = 0; i < 8; i++) code += PAIR_CODE_ALPHABET[randomInt(PAIR_CODE_ALPHABET.length)]
    // This host plays both roles of OPAQUE's registration, so that it holds the record a login
    // with the same code is checked against; the code itself is kept only to show it.
    const setup = opaque.server.createSetup()
    const reg = opaque.client.startRegistration({ password: code })
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup: setup,
      userIdentifier: USER,
      registrationRequest: reg.registrationRequest,
    })
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState: reg.clientRegistrationState,
      registrationResponse,
      password: code,
    })
    this.pending = {
      code,
      expiresAt: now + CODE_TTL_MS,
      triesLeft: MAX_TRIES,
      setup,
      record: registrationRecord,
    }
    return { code, expiresAt: this.pending.expiresAt }
  }

  /** One pairing connection (a WebSocket on PAIR_PATH of the serve port). */
  handle(ws: WebSocket, who: string): void {
    let step: 'start' | 'finish' | 'done' = 'start'
    let loginState: string | null = null
    let client: { hostId: string; hostName: string } | null = null
    const timer = setTimeout(() => refuse('the pairing took too long'), PAIR_TIMEOUT_MS)
    const send = (m: z.input<typeof ServerMsg>) => ws.send(JSON.stringify(m))
    const refuse = (reason: string) => {
      if (step === 'done') return
      step = 'done'
      clearTimeout(timer)
      this.log(`refused a pairing from ${who}: ${reason}`)
      send({ type: 'refused', reason })
      ws.close(1008, 'refused')
    }
    ws.on('close', () => {
      clearTimeout(timer)
      if (step === 'finish') this.log(`a pairing from ${who} ended before it finished`)
    })
    ws.on('message', (raw, isBinary) => {
      const parsed = isBinary ? null : safeJson(raw.toString())
      const msg = ClientMsg.safeParse(parsed)
      if (!msg.success) return refuse('the message was not part of a pairing')
      const m = msg.data
      const p = this.pending
      if (step === 'start' && m.type === 'start') {
        if (!p || Date.now() > p.expiresAt)
          return refuse(
            'there is no valid pairing code on this host; show a new one with vireo host pair-code',
          )
        if (p.triesLeft <= 0) return refuse('the pairing code was used up by wrong tries; show a new one')
        p.triesLeft--
        try {
          const r = opaque.server.startLogin({
            serverSetup: p.setup,
            userIdentifier: USER,
            registrationRecord: p.record,
            startLoginRequest: m.request,
          })
          loginState = r.serverLoginState
          client = { hostId: m.hostId, hostName: m.hostName }
          step = 'finish'
          send({ type: 'challenge', response: r.loginResponse })
        } catch {
          refuse('the pairing request was malformed')
        }
        return
      }
      if (step === 'finish' && m.type === 'wrong-code') {
        if (p && p.triesLeft <= 0) this.pending = null
        return refuse(`wrong pairing code (${p?.triesLeft ?? 0} tries left)`)
      }
      if (step === 'finish' && m.type === 'finish' && loginState && client && p) {
        let sessionKey: string
        try {
          sessionKey = opaque.server.finishLogin({
            finishLoginRequest: m.request,
            serverLoginState: loginState,
          }).sessionKey
        } catch {
          return refuse('wrong pairing code')
        }
        // Used: a code pairs one host.
        this.pending = null
        step = 'done'
        clearTimeout(timer)
        this.onPaired({ ...client, key: pairingKey(sessionKey, client.hostId, this.self.hostId) })
        this.log(`paired with ${client.hostName} (${client.hostId}) from ${who}`)
        send({ type: 'paired', hostId: this.self.hostId, hostName: this.self.hostName })
        ws.close(1000)
        return
      }
      refuse('the message came out of order')
    })
  }
}

/** The source's side: pairs with the host at `url` (ws://ADDR:PORT) using the code it showed. */
export async function pairWith(url: string, code: string, self: Self): Promise<PairedHost> {
  await opaque.ready
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: code })
  const ws = new WebSocket(`${url}${PAIR_PATH}`, { handshakeTimeout: PAIR_TIMEOUT_MS })
  return new Promise<PairedHost>((resolvePromise, reject) => {
    let settled = false
    const fail = (err: VireoError) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.terminate()
      reject(err)
    }
    const timer = setTimeout(
      () => fail(new VireoError('timeout', 'the other host did not finish pairing in time')),
      PAIR_TIMEOUT_MS,
    )
    ws.on('error', (err) =>
      fail(new VireoError('unavailable', `cannot reach the other host at ${url}: ${err.message}`)),
    )
    ws.on('close', () =>
      fail(new VireoError('unavailable', 'the other host closed the connection before pairing finished')),
    )
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          type: 'start',
          hostId: self.hostId,
          hostName: self.hostName,
          request: startLoginRequest,
        }),
      ),
    )
    let sessionKey: string | null = null
    ws.on('message', (raw) => {
      const msg = ServerMsg.safeParse(safeJson(raw.toString()))
      if (!msg.success)
        return fail(new VireoError('internal', 'the other host answered with something other than pairing'))
      const m = msg.data
      if (m.type === 'refused')
        return fail(new VireoError('unauthorized', `the other host refused: ${m.reason}`))
      if (m.type === 'challenge') {
        const done = opaque.client.finishLogin({
          clientLoginState,
          loginResponse: m.response,
          password: code,
        })
        if (!done) {
          // Said to the other host, so that it counts the try; its answer names the tries left.
          ws.send(JSON.stringify({ type: 'wrong-code' }))
          return
        }
        sessionKey = done.sessionKey
        ws.send(JSON.stringify({ type: 'finish', request: done.finishLoginRequest }))
        return
      }
      if (!sessionKey)
        return fail(new VireoError('unauthorized', 'the other host claimed a pairing that did not happen'))
      settled = true
      clearTimeout(timer)
      ws.close(1000)
      resolvePromise({
        hostId: m.hostId,
        hostName: m.hostName,
        key: pairingKey(sessionKey, self.hostId, m.hostId),
      })
    })
  })
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
