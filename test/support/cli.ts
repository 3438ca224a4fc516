// Runs the real `vireo` CLI as a subprocess against a throw-away data dir.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { repoRoot } from './guest.ts'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function vireo(dataDir: string, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIREO_TEST: '1' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })
}

/** Like vireo(), but a non-zero exit fails with the CLI's own words. */
export async function vireoOk(dataDir: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await vireo(dataDir, args, timeoutMs)
  if (r.code !== 0) throw new Error(`vireo ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
  return r.stdout
}

/** A VM as `vireo info --json` gives it. */
export async function vmInfo(dataDir: string, vm: string): Promise<VmInfo> {
  return JSON.parse(await vireoOk(dataDir, ['info', vm, '--json'])) as VmInfo
}

export function tempDataDir(prefix = 'vireo-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Stops the data dir's background host and every VM in it, then removes the dir. */
export async function cleanupDataDir(dataDir: string): Promise<void> {
  await vireo(dataDir, ['host', 'stop', '--stop-vms'], 180_000)
  rmSync(dataDir, { recursive: true, force: true })
}

export function hostPid(dataDir: string): number {
  return (JSON.parse(readFileSync(join(dataDir, 'host.json'), 'utf8')) as { pid: number }).pid
}

/**
 * Types a command on a VM's serial console and waits for `expect` (a regex) in what follows; the
 * output seen. Put the marker in a form the shell computes (`echo OK-$((40+2))` → `OK-42`), or the
 * echo of the typed line matches it at once.
 */
export async function guestSays(
  dataDir: string,
  vm: string,
  command: string,
  expect: string,
): Promise<string> {
  const r = await vireo(dataDir, [
    'console',
    vm,
    '--send',
    `${command}\n`,
    '--expect',
    expect,
    '--timeout',
    '60',
  ])
  if (r.code !== 0) throw new Error(`no "${expect}" after "${command}": ${r.stdout.slice(-400)}`)
  return r.stdout
}
