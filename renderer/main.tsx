// The renderer's entry: picks the mode (desktop app or browser) and renders the app.
import '@vitejs/plugin-react/preamble'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app/App.tsx'
import { inElectron } from './connection/electron.ts'
import { displayStats } from './display/stats.ts'

// The display counters exist from the start, so a test can read them before any VM is shown.
displayStats()

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App platform={inElectron() ? { kind: 'electron' } : { kind: 'browser' }} />
  </StrictMode>,
)
