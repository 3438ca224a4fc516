/* global setInterval, clearInterval */
// Watches an engine that receives a migration (argv: engine pid, VM folder). When the engine dies
// while the folder is still a partial copy (incoming.json present, no vm.json), the QEMU waiting in
// it is killed (only if its /proc cmdline carries the folder's VM id) and the folder removed. Plain
// JavaScript: it runs apart from the engine, under Node or Electron-as-Node, with nothing to build.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'

const [enginePid, dir] = [Number(process.argv[2]), process.argv[3]]
const alive = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const partial = () => existsSync(join(dir, 'incoming.json')) && !existsSync(join(dir, 'vm.json'))

const timer = setInterval(() => {
  if (!partial()) process.exit(0)
  if (alive(enginePid)) return
  clearInterval(timer)
  try {
    const { pid } = JSON.parse(readFileSync(join(dir, 'runtime.json'), 'utf8'))
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (cmdline.includes(`process=vireo-${basename(dir).slice(0, 8)}`)) process.kill(pid, 'SIGKILL')
  } catch {
    /* no QEMU yet, or gone */
  }
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}, 500)
