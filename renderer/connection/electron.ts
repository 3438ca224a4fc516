// Desktop mode: the preload hands this window a MessagePort to the engine, and a fresh one each time
// the engine restarts (see preload/api.ts). Each port becomes a new RpcClient.
import { RpcClient } from '../../engine/api/client.ts'
import { domPortTransport } from '../../engine/api/transports/port.ts'
import { receiveEnginePorts } from '../../preload/api.ts'

/** True inside the desktop app, where the preload exposed `window.vireo`. */
export function inElectron(win: Window = window): boolean {
  const api = (win as Partial<Pick<Window, 'vireo'>>).vireo
  return typeof api === 'object' && api !== null && typeof api.onPort === 'function'
}

/** Calls `onClient` with a client for every engine port main hands this window; returns a stop. */
export function connectElectron(onClient: (client: RpcClient) => void): () => void {
  return receiveEnginePorts((port) => onClient(new RpcClient(domPortTransport(port))))
}
