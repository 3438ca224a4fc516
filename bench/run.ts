// npm run bench: each figure against its baseline in the same run, written as JSON.
import { mkdirSync, writeFileSync } from 'node:fs'
import { arch, cpus, release } from 'node:os'
import { join } from 'node:path'
import { benchBoot } from './boot.ts'

const rounds = Number(process.env.VIREO_BENCH_ROUNDS ?? 3)
const results = {
  date: new Date().toISOString(),
  host: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    arch: arch(),
    kernel: release(),
    node: process.version,
  },
  boot: await benchBoot(rounds),
}
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n')
console.log(JSON.stringify(results, null, 2))
console.log(
  `boot: Vireo ${results.boot.medianVireoMs} ms vs bare QEMU ${results.boot.medianBareMs} ms (×${results.boot.ratio})`,
)
