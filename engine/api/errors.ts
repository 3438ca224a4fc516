// Errors that cross the RPC boundary: a stable code for scripts, a sentence for people.
import { z } from 'zod'

export const ErrorCode = z.enum([
  'invalid_request',
  'not_found',
  'conflict',
  'invalid_state',
  'qemu_failed',
  'unauthorized',
  'timeout',
  'unavailable',
  'internal',
])
export type ErrorCode = z.infer<typeof ErrorCode>

export const RpcErrorBody = z.object({ code: ErrorCode, message: z.string() })
export type RpcErrorBody = z.infer<typeof RpcErrorBody>

export class VireoError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'VireoError'
    this.code = code
  }
  toBody(): RpcErrorBody {
    return { code: this.code, message: this.message }
  }
}

/** Turns anything thrown into a body fit to send; unknown failures keep their message but say `internal`. */
export function toErrorBody(err: unknown): RpcErrorBody {
  if (err instanceof VireoError) return err.toBody()
  if (err instanceof Error) return { code: 'internal', message: err.message }
  return { code: 'internal', message: String(err) }
}
