// Changing the disc in a running VM's CD drive. The disc is the same pair of block nodes the
// command line makes (cdromMediumBlockdevs), so a drive whose disc was changed live looks to QEMU
// exactly like one started with that disc: a later snapshot load or migration finds the same nodes.
import { inspectForCreate, type InspectDeps } from '../images/inspect-image.ts'
import { cdromMediumBlockdevs, cdromNodeNames } from '../qemu/argv/cdrom.ts'
import type { QmpClient } from '../qmp/client.ts'

/**
 * A disc is checked as `create --iso` checks it, running or stopped: an ISO 9660 image cut short
 * (a download that stopped) is refused in words rather than handed to the guest. A file that is no
 * ISO at all is left to the guest's firmware, as at create.
 */
export async function checkDisc(path: string, deps: InspectDeps): Promise<void> {
  await inspectForCreate(path, 'iso', deps)
}

async function namedNodes(qmp: QmpClient): Promise<Set<string>> {
  const nodes = await qmp.execute('query-named-block-nodes', { flat: true })
  return new Set(nodes.map((n) => n['node-name']))
}

/** Takes the disc out (the tray opened even if the guest locked it) and frees its nodes. */
export async function ejectMedium(qmp: QmpClient, cdromId: string): Promise<void> {
  await qmp.execute('blockdev-open-tray', { id: cdromId, force: true })
  await qmp.execute('blockdev-remove-medium', { id: cdromId })
  const names = cdromNodeNames(cdromId)
  const present = await namedNodes(qmp)
  // Format node first: it holds a reference to the file node beneath it.
  for (const node of [names.format, names.file]) {
    if (present.has(node)) await qmp.execute('blockdev-del', { 'node-name': node })
  }
}

/** Puts `path` in the drive (replacing any disc) and closes the tray, so the guest sees a new medium. */
export async function insertMedium(qmp: QmpClient, cdromId: string, path: string): Promise<void> {
  await ejectMedium(qmp, cdromId)
  const added: string[] = []
  try {
    for (const node of cdromMediumBlockdevs(cdromId, path)) {
      await qmp.execute('blockdev-add', node)
      added.push(node['node-name'])
    }
    await qmp.execute('blockdev-insert-medium', { id: cdromId, 'node-name': cdromNodeNames(cdromId).format })
  } catch (err) {
    // Leave the drive empty rather than holding half-made nodes.
    for (const node of added.reverse())
      await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => {})
    throw err
  }
  await qmp.execute('blockdev-close-tray', { id: cdromId })
}
