// What an RPC session needs from whoever serves it (the engine): method handlers, events, streams.
import type { Disposable } from './transport.ts'
import type { EventData, EventName, MethodName, Params, Result } from './rpc.ts'

export type StreamKind = 'console' | 'display'

/** One open byte stream: the engine pushes output to `onData`; the client's input goes to `write`. */
export interface ByteStream {
  write(data: Uint8Array): void
  close(): void
}

export interface StreamSink {
  /** Output for the client. Copied before this returns: the caller may reuse `bytes` at once. */
  data(bytes: Uint8Array): void
  end(reason: string): void
}

export type Handlers = {
  [M in Exclude<MethodName, 'stream.open' | 'stream.close'>]: (params: Params<M>) => Promise<Result<M>>
}

export interface RpcBackend {
  handlers: Handlers
  onEvent(listener: <E extends EventName>(event: E, data: EventData<E>) => void): Disposable
  openStream(kind: StreamKind, vm: string, sink: StreamSink): Promise<ByteStream>
}
