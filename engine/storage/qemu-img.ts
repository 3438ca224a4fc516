// qemu-img, run without a shell. Every path is resolved by the caller before it gets here.
import { renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { execFileText, QEMU_IMG_MEMORY_BYTES } from '../qemu/exec.ts'
import { z } from 'zod'

export const ImageInfo = z.looseObject({
  filename: z.string(),
  format: z.string(),
  'virtual-size': z.number(),
  'actual-size': z.number().optional(),
  'backing-filename': z.string().optional(),
  'dirty-flag': z.boolean().optional(),
})
export type ImageInfo = z.infer<typeof ImageInfo>

/** What qemu-img said last, without its name: its last line is the reason. */
function complaint(stderr: string, code: number | null): string {
  return (
    stderr
      .trim()
      .replace(/^qemu-img: /, '')
      .split('\n')
      .at(-1) || `exit ${code}`
  )
}

async function run(qemuImg: string, args: string[], what: string, timeoutMs = 10 * 60_000): Promise<string> {
  const r = await execFileText(qemuImg, args, { timeoutMs, maxMemoryBytes: QEMU_IMG_MEMORY_BYTES })
  if (r.signal === 'SIGKILL')
    throw new VireoError(
      'timeout',
      `${what} did not finish within ${Math.round(timeoutMs / 1000)} s; stopped`,
    )
  if (r.code !== 0) throw new VireoError('qemu_failed', `${what} failed: ${complaint(r.stderr, r.code)}`)
  return r.stdout
}

export async function createImage(qemuImg: string, path: string, format: 'qcow2' | 'raw', bytes: number) {
  await run(qemuImg, ['create', '-q', '-f', format, path, String(bytes)], `creating the disk ${path}`)
}

/**
 * `qemu-img info` of one image, never of its chain (it opens no backing file). It does open a
 * qcow2's data file and a VMDK's extents by their names: walk the chain (image-chain.ts) first.
 * With `format`, qemu-img does not probe.
 */
export async function imageInfo(qemuImg: string, path: string, format?: string): Promise<ImageInfo> {
  // -U: a running VM may hold the image; reading its header is still safe.
  const args = ['info', '-U', '--output=json', ...(format ? ['-f', format] : []), path]
  const out = await run(qemuImg, args, `reading the disk image ${path}`, 60_000)
  return ImageInfo.parse(JSON.parse(out))
}

export interface ConvertOptions {
  /** The source's format as `qemu-img info` found it: never let qemu-img guess twice. */
  inFormat?: string
  /**
   * The source's chain as Vireo walked and checked it: qemu-img is given it as an explicit block
   * graph, so it opens these files and no name it finds inside them.
   */
  chain?: readonly { path: string; format: string; dataFile: string | null }[]
  /** `-o` creation options of the target, e.g. `subformat=streamOptimized` for vmdk. */
  targetOptions?: string
  /** 0–100, as qemu-img -p reports it. */
  onProgress?: (percent: number) => void
}

/**
 * Copies an image into a new file of another format. The target appears under its name only when
 * complete (written beside it, then renamed), so a cancelled or failed conversion leaves nothing.
 */
export async function convertImage(
  qemuImg: string,
  from: string,
  to: string,
  outFormat: 'qcow2' | 'raw' | 'vmdk',
  opts: ConvertOptions = {},
): Promise<void> {
  const partial = join(dirname(to), `.${basename(to)}.partial`)
  const source = opts.chain ? explicitGraph(opts.chain) : from
  const args = [
    'convert',
    opts.onProgress ? '-p' : '-q',
    ...(opts.inFormat && !opts.chain ? ['-f', opts.inFormat] : []),
    '-O',
    outFormat,
    ...(opts.targetOptions ? ['-o', opts.targetOptions] : []),
    source,
    partial,
  ]
  try {
    const r = await execFileText(qemuImg, args, {
      timeoutMs: 6 * 60 * 60_000,
      maxMemoryBytes: QEMU_IMG_MEMORY_BYTES,
      ...(opts.onProgress ? { onStdout: progressParser(opts.onProgress) } : {}),
    })
    if (r.code !== 0)
      throw new VireoError('qemu_failed', `converting ${from} failed: ${complaint(r.stderr, r.code)}`)
    renameSync(partial, to)
  } finally {
    rmSync(partial, { force: true })
  }
}

/** A chain, top first, as one `json:` filename: every node given, none left for QEMU to find. */
export function explicitGraph(
  chain: readonly { path: string; format: string; dataFile: string | null }[],
): string {
  const node = (i: number): Record<string, unknown> => {
    const n = chain[i]!
    return {
      driver: n.format,
      file: { driver: 'file', filename: n.path },
      ...(n.format === 'qcow2' || n.format === 'vmdk'
        ? { backing: i + 1 < chain.length ? node(i + 1) : null }
        : {}),
      ...(n.dataFile ? { 'data-file': { driver: 'file', filename: n.dataFile } } : {}),
    }
  }
  return `json:${JSON.stringify(node(0))}`
}

/** qemu-img -p writes `    (12.34/100%)\r` as it goes. */
function progressParser(onProgress: (percent: number) => void): (chunk: string) => void {
  let last = -1
  return (chunk) => {
    for (const m of chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)) {
      const p = Number(m[1])
      if (p !== last) onProgress((last = p))
    }
  }
}

export interface CheckReport {
  /** 0 clean, 2 corrupt, 3 leaked clusters (harmless, repairable) — qemu-img check's own codes. */
  code: number
  /** Leaked clusters left after the check (and after its repair, when asked). */
  leaks: number
  leaksFixed: number
  corruptions: number
  text: string
}

/** `qemu-img check`, repairing leaked clusters (what a killed QEMU can leave in a qcow2) when asked. */
export async function checkImage(qemuImg: string, path: string, repairLeaks: boolean): Promise<CheckReport> {
  const args = ['check', '--output=json', ...(repairLeaks ? ['-r', 'leaks'] : []), path]
  const r = await execFileText(qemuImg, args, {
    timeoutMs: 10 * 60_000,
    maxMemoryBytes: QEMU_IMG_MEMORY_BYTES,
  })
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(r.stdout) as Record<string, unknown>
  } catch {
    /* older qemu-img prints text on failure */
  }
  const num = (k: string) => (typeof parsed[k] === 'number' ? (parsed[k] as number) : 0)
  return {
    code: r.code ?? -1,
    leaks: num('leaks'),
    leaksFixed: num('leaks-fixed'),
    corruptions: num('corruptions'),
    text: (r.stdout + r.stderr).trim(),
  }
}
