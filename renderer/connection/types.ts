// What the views need of an engine connection: the RpcClient's public surface. Views take this type,
// not the class, so that tests can hand them a small fake.
import type { RpcClient } from '../../engine/api/client.ts'

export type VireoClient = Pick<RpcClient, 'call' | 'on' | 'onClose' | 'openStream' | 'close'>

/** Where the page runs: inside the desktop app (with its native dialogs) or in a browser. */
export type Platform = { kind: 'electron' } | { kind: 'browser' }
