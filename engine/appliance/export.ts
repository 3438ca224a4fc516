// Exporting a stopped VM as an OVA: each disk converted to a streamOptimized VMDK, an OVF 1.x
// descriptor, a SHA-256 manifest, all in one tar with the descriptor first and the manifest second
// (the order OVF requires, so importers can stream). Everything is written beside the target under
// hidden temporary names and the OVA appears by rename only when complete.
import { randomBytes } from 'node:crypto'
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { basename, dirname, isAbsolute, join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pack } from 'tar-stream'
import { VireoError } from '../api/errors.ts'
import type { JobProgress } from '../api/rpc.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { convertImage, imageInfo } from '../storage/qemu-img.ts'
import { resolveVmPath } from '../vm/library.ts'
import { MultiHash } from './manifest.ts'
import { writeDescriptor, type ExportedDisk } from './ovf-writer.ts'

export interface ExportOptions {
  qemuImg: string
  config: VmConfig
  vmDir: string
  target: string
  onProgress?: (p: Omit<JobProgress, 'job'>) => void
}

/** The target must be a new absolute .ova path in an existing folder. */
export function checkExportTarget(target: string): void {
  if (!isAbsolute(target))
    throw new VireoError('invalid_request', `the OVA path must be absolute (got "${target}")`)
  if (!/\.ova$/i.test(target))
    throw new VireoError('invalid_request', `the OVA path must end in .ova (got "${target}")`)
  if (existsSync(target)) {
    throw new VireoError(
      'conflict',
      `${target} already exists; Vireo does not overwrite it (remove it or choose another name)`,
    )
  }
  const folder = dirname(target)
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new VireoError('not_found', `the folder ${folder} does not exist`)
  }
}

/** A file name from a VM name: what survives in every tar and on every filesystem. */
function fileStem(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 64) || 'vm'
  )
}

export async function exportAppliance(o: ExportOptions): Promise<{ path: string; bytes: number }> {
  checkExportTarget(o.target)
  const stem = fileStem(o.config.name)
  const tag = randomBytes(4).toString('hex')
  const work = join(dirname(o.target), `.${basename(o.target)}.${tag}.parts`)
  const partial = join(dirname(o.target), `.${basename(o.target)}.${tag}.partial`)
  mkdirSync(work, { mode: 0o700 })
  try {
    const disks: (ExportedDisk & { path: string })[] = []
    for (const [i, d] of o.config.disks.entries()) {
      const source = resolveVmPath(o.vmDir, d.path)
      const href = `${stem}-disk${i + 1}.vmdk`
      const path = join(work, href)
      const phase = `converting ${d.id} to a streamOptimized VMDK`
      await convertImage(o.qemuImg, source, path, 'vmdk', {
        inFormat: d.format,
        targetOptions: 'subformat=streamOptimized',
        ...(o.onProgress
          ? { onProgress: (done: number) => o.onProgress?.({ phase, done, total: 100, unit: 'percent' }) }
          : {}),
      })
      const capacityBytes = (await imageInfo(o.qemuImg, source))['virtual-size']
      disks.push({ id: d.id, href, path, fileBytes: statSync(path).size, capacityBytes })
    }
    const ovfName = `${stem}.ovf`
    const ovf = Buffer.from(writeDescriptor(o.config, disks))
    const digest = async (file: string) => {
      const h = new MultiHash(['sha256'])
      for await (const c of createReadStream(file)) h.update(c as Buffer)
      return h.digests().sha256!
    }
    const ovfHash = new MultiHash(['sha256'])
    ovfHash.update(ovf)
    const lines = [`SHA256(${ovfName})= ${ovfHash.digests().sha256}`]
    for (const d of disks) lines.push(`SHA256(${d.href})= ${await digest(d.path)}`)
    const mf = Buffer.from(lines.join('\n') + '\n')

    const total = ovf.length + mf.length + disks.reduce((n, d) => n + d.fileBytes, 0)
    let done = 0
    const phase = `writing ${basename(o.target)}`
    const tar = pack()
    const out = createWriteStream(partial, { flags: 'wx', mode: 0o644 })
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length
        o.onProgress?.({ phase, done: Math.min(done, total), total, unit: 'bytes' })
        cb(null, chunk)
      },
    })
    const writing = pipeline(Readable.from(tar), counter, out)
    const mtime = new Date()
    tar.entry({ name: ovfName, size: ovf.length, mode: 0o644, mtime }, ovf)
    tar.entry({ name: `${stem}.mf`, size: mf.length, mode: 0o644, mtime }, mf)
    for (const d of disks) {
      await new Promise<void>((resolvePromise, reject) => {
        const entry = tar.entry({ name: d.href, size: d.fileBytes, mode: 0o644, mtime }, (err) =>
          err ? reject(err) : resolvePromise(),
        )
        const input = createReadStream(d.path)
        input.on('error', reject)
        input.pipe(entry as unknown as NodeJS.WritableStream)
      })
      rmSync(d.path, { force: true })
    }
    tar.finalize()
    await writing
    renameSync(partial, o.target)
    return { path: o.target, bytes: statSync(o.target).size }
  } finally {
    rmSync(work, { recursive: true, force: true })
    rmSync(partial, { force: true })
  }
}
