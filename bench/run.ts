// npm run bench [-- PART...]: each figure against its baseline in the same run, written as JSON.
// Parts run one after another (two cores: a measurement never shares the machine with another), and
// a run of some parts keeps the others' latest figures in the results file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { arch, cpus, release } from 'node:os'
import { join } from 'node:path'
import { benchBoot } from './boot.ts'
import { benchDisplay } from './display.ts'
import { benchMigration } from './migration.ts'
import { benchParavirt } from './paravirt.ts'
import { benchSnapshot } from './snapshot.ts'

const rounds = Number(process.env.VIREO_BENCH_ROUNDS ?? 3)
const PARTS: Record<string, () => Promise<object>> = {
  boot: () => benchBoot(rounds),
  paravirt: () => benchParavirt(),
  display: () => benchDisplay(),
  snapshot: () => benchSnapshot(rounds),
  migration: () => benchMigration(rounds),
}

const asked = process.argv.slice(2)
for (const p of asked) {
  if (!(p in PARTS)) {
    console.error(`unknown part "${p}"; the parts are: ${Object.keys(PARTS).join(', ')}`)
    process.exit(2)
  }
}
const dir = join(import.meta.dirname, 'results')
const file = join(dir, 'latest.json')
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}
const results: Record<string, unknown> = {
  ...previous,
  date: new Date().toISOString(),
  host: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    arch: arch(),
    kernel: release(),
    node: process.version,
  },
}
for (const part of asked.length ? asked : Object.keys(PARTS)) {
  console.error(`bench: ${part}…`)
  results[part] = { ...(await PARTS[part]!()), measuredAt: new Date().toISOString() }
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
}
console.log(JSON.stringify(results, null, 2))
