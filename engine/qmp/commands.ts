// The QMP commands and events Vireo uses, typed after QEMU 7.2's QAPI schema. Results Vireo does
// not read in detail stay `unknown` rather than pretending to a shape.
import type { BlockdevJson } from '../qemu/argv/json.ts'

export type RunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo'

type Empty = Record<string, never>
type JsonObject = Record<string, unknown>

export interface QmpCommands {
  qmp_capabilities: { args: { enable?: string[] }; result: Empty }
  'query-version': {
    args: undefined
    result: { qemu: { major: number; minor: number; micro: number }; package: string }
  }
  'query-status': { args: undefined; result: { running: boolean; singlestep?: boolean; status: RunState } }
  'query-commands': { args: undefined; result: { name: string }[] }
  'query-kvm': { args: undefined; result: { enabled: boolean; present: boolean } }
  stop: { args: undefined; result: Empty }
  cont: { args: undefined; result: Empty }
  system_reset: { args: undefined; result: Empty }
  system_powerdown: { args: undefined; result: Empty }
  quit: { args: undefined; result: Empty }
  screendump: {
    args: { filename: string; device?: string; head?: number; format?: 'ppm' | 'png' }
    result: Empty
  }
  'human-monitor-command': { args: { 'command-line': string }; result: string }
  'query-block': { args: undefined; result: JsonObject[] }
  'query-named-block-nodes': { args: { flat?: boolean }; result: ({ 'node-name': string } & JsonObject)[] }
  'blockdev-add': { args: BlockdevJson; result: Empty }
  'blockdev-del': { args: { 'node-name': string }; result: Empty }
  device_add: { args: JsonObject & { driver: string; id?: string }; result: Empty }
  device_del: { args: { id: string }; result: Empty }
  // node-name: the format node, which Vireo names after the disk's device id.
  block_resize: { args: { 'node-name': string; size: number }; result: Empty }
  netdev_add: { args: JsonObject & { type: string; id: string }; result: Empty }
  netdev_del: { args: { id: string }; result: Empty }
  'blockdev-change-medium': {
    args: {
      id: string
      filename: string
      format?: string
      'read-only-mode'?: 'retain' | 'read-only' | 'read-write'
    }
    result: Empty
  }
  'blockdev-open-tray': { args: { id: string; force?: boolean }; result: Empty }
  'blockdev-close-tray': { args: { id: string }; result: Empty }
  'blockdev-remove-medium': { args: { id: string }; result: Empty }
  'blockdev-insert-medium': { args: { id: string; 'node-name': string }; result: Empty }
  set_link: { args: { name: string; up: boolean }; result: Empty }
  'query-migrate': { args: undefined; result: JsonObject }
  'migrate-set-capabilities': {
    args: { capabilities: { capability: string; state: boolean }[] }
    result: Empty
  }
  'migrate-set-parameters': { args: JsonObject; result: Empty }
  migrate: { args: { uri: string; detach?: boolean; resume?: boolean }; result: Empty }
  'migrate-incoming': { args: { uri: string }; result: Empty }
  migrate_cancel: { args: undefined; result: Empty }
  'snapshot-save': {
    args: { 'job-id': string; tag: string; vmstate: string; devices: string[] }
    result: Empty
  }
  'snapshot-load': {
    args: { 'job-id': string; tag: string; vmstate: string; devices: string[] }
    result: Empty
  }
  'snapshot-delete': { args: { 'job-id': string; tag: string; devices: string[] }; result: Empty }
  'query-jobs': {
    args: undefined
    result: {
      id: string
      type: string
      status: string
      'current-progress': number
      'total-progress': number
      error?: string
    }[]
  }
  'job-dismiss': { args: { id: string }; result: Empty }
  'object-add': { args: JsonObject & { 'qom-type': string; id: string }; result: Empty }
  'object-del': { args: { id: string }; result: Empty }
  yank: { args: { instances: JsonObject[] }; result: Empty }
  'query-vnc': { args: undefined; result: JsonObject }
  /** Atomic groups of block actions (all disks' blockdev-snapshot at one instant). */
  transaction: { args: { actions: { type: string; data: JsonObject }[] }; result: Empty }
  'block-stream': {
    args: { 'job-id': string; device: string; 'base-node'?: string; 'backing-file'?: string }
    result: Empty
  }
  'query-block-jobs': { args: undefined; result: JsonObject[] }
  'query-migrate-parameters': { args: undefined; result: JsonObject }
  'blockdev-mirror': {
    args: { 'job-id': string; device: string; target: string; sync: 'top' | 'full'; speed?: number }
    result: Empty
  }
  'block-job-cancel': { args: { device: string; force?: boolean }; result: Empty }
  'nbd-server-start': { args: JsonObject; result: Empty }
  'nbd-server-stop': { args: undefined; result: Empty }
  'block-export-add': { args: JsonObject & { type: string; id: string; 'node-name': string }; result: Empty }
  'block-export-del': { args: { id: string; mode?: 'safe' | 'hard' }; result: Empty }
  'migrate-start-postcopy': { args: undefined; result: Empty }
}

export type QmpCommandName = keyof QmpCommands
export type QmpArgs<C extends QmpCommandName> = QmpCommands[C]['args']
export type QmpResult<C extends QmpCommandName> = QmpCommands[C]['result']

export interface QmpEvents {
  SHUTDOWN: { guest: boolean; reason: string }
  POWERDOWN: Empty
  RESET: { guest: boolean; reason: string }
  STOP: Empty
  RESUME: Empty
  DEVICE_DELETED: { device?: string; path: string }
  JOB_STATUS_CHANGE: { id: string; status: string }
  BLOCK_JOB_READY: JsonObject
  BLOCK_JOB_COMPLETED: JsonObject
  BLOCK_JOB_ERROR: JsonObject
  BLOCK_JOB_CANCELLED: JsonObject
  MIGRATION: { status: string }
  MIGRATION_PASS: { pass: number }
  NIC_RX_FILTER_CHANGED: JsonObject
  RTC_CHANGE: JsonObject
  VNC_CONNECTED: JsonObject
  VNC_INITIALIZED: JsonObject
  VNC_DISCONNECTED: JsonObject
}
export type QmpEventName = keyof QmpEvents
