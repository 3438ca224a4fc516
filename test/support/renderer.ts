// Stand-ins for renderer component tests: a client whose calls a test answers, and a VmInfo made
// from a config the way the engine makes one.
import { vi } from 'vitest'
import type { VmInfo, VmState } from '../../engine/api/rpc.ts'
import { VmConfig, type VmConfigInput } from '../../engine/api/vm-config.ts'
import type { VireoClient } from '../../renderer/connection/types.ts'

export type FakeCall = (method: string, params: Record<string, unknown>) => Promise<unknown>

export function fakeClient(call: FakeCall): VireoClient {
  return {
    call,
    on: vi.fn(() => ({ dispose: vi.fn() })),
    onClose: vi.fn(),
    openStream: vi.fn(),
    close: vi.fn(),
  } as unknown as VireoClient
}

export function vmInfoOf(input: VmConfigInput, state: VmState = 'stopped'): VmInfo {
  const config = VmConfig.parse(input)
  return {
    id: config.id,
    kind: 'vm',
    name: config.name,
    state,
    cpus: config.cpus,
    memoryMiB: config.memoryMiB,
    firmware: config.firmware,
    config,
    dir: `/vms/${config.id}`,
    runtime: null,
    lastError: null,
    lastExit: null,
  }
}
