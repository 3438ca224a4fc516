// Finding QEMU and reading what this build can do. Probing lives here, apart from the argv builder.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { execFileText } from './exec.ts'

export interface QemuInstallation {
  system: string
  img: string
  version: string
  /** e.g. { q35: 'pc-q35-7.2', pc: 'pc-i440fx-7.2' } — stored in vm.json so the hardware never drifts. */
  machineAliases: Record<'q35' | 'pc', string>
  sandbox: boolean
}

function which(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      /* not here */
    }
  }
  return null
}

/** Locates qemu-system-x86_64 and qemu-img: a configured path first (VIREO_QEMU), then PATH. */
export async function findQemu(env: NodeJS.ProcessEnv = process.env): Promise<QemuInstallation> {
  const system = env.VIREO_QEMU ?? which('qemu-system-x86_64', env)
  const img = env.VIREO_QEMU_IMG ?? which('qemu-img', env)
  if (!system) {
    throw new VireoError(
      'unavailable',
      'QEMU is not installed: install qemu-system-x86 (Debian/Ubuntu: apt-get install qemu-system-x86 qemu-utils)',
    )
  }
  if (!img) throw new VireoError('unavailable', 'qemu-img is not installed: install qemu-utils')
  const ver = await execFileText(system, ['--version'], { timeoutMs: 10_000 })
  const m = /version (\d+\.\d+(?:\.\d+)?)/.exec(ver.stdout)
  if (ver.code !== 0 || !m?.[1])
    throw new VireoError('unavailable', `${system} --version failed: ${ver.stderr.trim()}`)
  const help = await execFileText(system, ['-machine', 'help'], { timeoutMs: 10_000 })
  const alias = (name: string, fallback: string) => {
    const line = help.stdout.split('\n').find((l) => l.startsWith(`${name} `))
    return /alias of (\S+)\)/.exec(line ?? '')?.[1] ?? fallback
  }
  const [major, minor] = m[1].split('.')
  const full = await execFileText(system, ['-help'], { timeoutMs: 10_000 })
  return {
    system,
    img,
    version: m[1],
    machineAliases: {
      q35: alias('q35', `pc-q35-${major}.${minor}`),
      pc: alias('pc', `pc-i440fx-${major}.${minor}`),
    },
    sandbox: /^-sandbox /m.test(full.stdout),
  }
}

export interface FirmwareFiles {
  code: string
  varsTemplate: string
}

/** OVMF (UEFI) as Debian, Fedora and Homebrew install it; null when absent. */
export function findOvmf(env: NodeJS.ProcessEnv = process.env): FirmwareFiles | null {
  const candidates: FirmwareFiles[] = [
    ...(env.VIREO_OVMF_CODE && env.VIREO_OVMF_VARS
      ? [{ code: env.VIREO_OVMF_CODE, varsTemplate: env.VIREO_OVMF_VARS }]
      : []),
    { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
    { code: '/usr/share/OVMF/OVMF_CODE.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS.fd' },
    { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', varsTemplate: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  ]
  for (const c of candidates) {
    try {
      accessSync(c.code, constants.R_OK)
      accessSync(c.varsTemplate, constants.R_OK)
      return c
    } catch {
      /* next */
    }
  }
  return null
}
