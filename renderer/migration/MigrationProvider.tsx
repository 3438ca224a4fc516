// One migration wizard per window, above the library and the VM view: a VM moved away vanishes from
// both, and the wizard must outlive it to show the result.
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react'
import { MigrationWizard } from './MigrationWizard.tsx'

export interface MigrationLauncher {
  /** Opens the wizard, with this VM chosen when given. */
  open(vmId?: string): void
}

const MigrationContext = createContext<MigrationLauncher | null>(null)

/** The wizard's launcher, or null where no MigrationProvider is (then offer no migration). */
export function useMigrationWizard(): MigrationLauncher | null {
  return useContext(MigrationContext)
}

export function MigrationProvider(props: { children: ReactNode }) {
  const [wizard, setWizard] = useState<{ key: number; vmId: string | null } | null>(null)
  const launcher = useMemo<MigrationLauncher>(
    () => ({ open: (vmId) => setWizard((w) => ({ key: (w?.key ?? 0) + 1, vmId: vmId ?? null })) }),
    [],
  )
  return (
    <MigrationContext.Provider value={launcher}>
      {props.children}
      {wizard && <MigrationWizard key={wizard.key} vmId={wizard.vmId} onClose={() => setWizard(null)} />}
    </MigrationContext.Provider>
  )
}
