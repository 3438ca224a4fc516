// @vitest-environment jsdom
// Browser mode never shows a blank page: no token → the sign-in form; a refused token → the form with
// "The token was not accepted…"; the token leaves the address bar.
import { act, cleanup, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TOKEN_KEY } from '../../renderer/connection/browser.ts'
import { ConnectionGate } from '../../renderer/connection/ConnectionGate.tsx'

/** A WebSocket whose upgrade is always refused, as a browser reports it: error, then close. */
class RefusedSocket {
  static made: Array<{ url: string; protocols: string[] }> = []
  binaryType = 'blob'
  readyState = 0
  private readonly listeners = new Map<string, Array<() => void>>()
  constructor(url: string, protocols: string[]) {
    RefusedSocket.made.push({ url, protocols })
    setTimeout(() => {
      this.readyState = 3
      for (const type of ['error', 'close']) for (const l of this.listeners.get(type) ?? []) l()
    }, 0)
  }
  addEventListener(type: string, l: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l])
  }
  send() {}
  close() {}
}

beforeEach(() => {
  RefusedSocket.made = []
  vi.stubGlobal('WebSocket', RefusedSocket)
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response('{"error":"the token was not accepted"}', { status: 401 })),
  )
  sessionStorage.clear()
})
afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  history.replaceState(null, '', '/')
})

describe('connection gate (browser)', () => {
  it('shows the sign-in form when there is no token', async () => {
    render(
      <ConnectionGate platform={{ kind: 'browser' }}>
        <p>library</p>
      </ConnectionGate>,
    )
    expect(screen.getByText('Connecting to the Vireo engine…')).toBeTruthy()
    expect(await screen.findByRole('heading', { name: 'Sign in to Vireo' })).toBeTruthy()
    expect(screen.queryByRole('alert')).toBeNull()
    expect(RefusedSocket.made[0]?.protocols).toEqual([])
  })

  it('says the token was not accepted, and takes it out of the address bar', async () => {
    history.replaceState(null, '', '/#token=wrong-token-0123')
    render(
      <ConnectionGate platform={{ kind: 'browser' }}>
        <p>library</p>
      </ConnectionGate>,
    )
    expect(location.hash).toBe('')
    expect(RefusedSocket.made[0]?.protocols).toEqual(['vireo.token.wrong-token-0123'])
    expect(await screen.findByText(/^The token was not accepted/)).toBeTruthy()
    expect(screen.getByLabelText(/Token/)).toBeTruthy()
    await act(async () => undefined)
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull()
    expect(screen.queryByText('library')).toBeNull()
  })
})
