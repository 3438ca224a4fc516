// Builds the renderer (renderer/index.html) into dist/renderer as static files that both the desktop
// app (app://vireo/) and `vireo serve` serve under the CSP `script-src 'self'`: relative base, every
// script an external file (no inline bootstrap), no inline module-preload polyfill.
import { resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vite'
import react from '@vitejs/plugin-react'

const root = resolve(import.meta.dirname, 'renderer')

// `VIREO_DEV_HOST=http://127.0.0.1:PORT vite` develops the browser mode against a running `vireo serve`:
// the dev server forwards the RPC WebSocket and the sign-in to it, as that host's own page would
// reach them (same Host and Origin, or the host refuses them).
const devHost = process.env.VIREO_DEV_HOST
const proxy = devHost
  ? Object.fromEntries(
      ['/rpc', '/sign-in'].map((path) => [
        path,
        {
          target: devHost,
          ws: path === '/rpc',
          changeOrigin: true,
          headers: { origin: new URL(devHost).origin },
        },
      ]),
    )
  : undefined

// The CSP every real deployment sends (main/csp.ts, engine/host/static-files.ts), so that anything the
// dev server would need beyond it shows up here first.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/**
 * No inline <script> in index.html, ever: the build fails if one appears; the dev server drops the
 * one @vitejs/plugin-react adds (main.tsx imports the same preamble as a module instead).
 */
function noInlineScripts(): Plugin {
  let building = false
  return {
    name: 'vireo-no-inline-scripts',
    configResolved(config) {
      building = config.command === 'build'
    },
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const inline = /<script\b(?![^>]*\bsrc=)[^>]*>[\s\S]*?<\/script>/gi
        if (building && inline.test(html))
          throw new Error('index.html has an inline script, which the CSP forbids')
        return html.replace(inline, '')
      },
    },
  }
}

export default defineConfig({
  root,
  base: './',
  publicDir: resolve(root, 'public'),
  plugins: [react(), noInlineScripts()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    // Chromium (Electron and the browsers Vireo supports) has modulepreload: no polyfill script.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs into scripts; small files stay files too.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // The desktop app may load a dev server on loopback only (main/windows.ts).
    host: '127.0.0.1',
    strictPort: true,
    port: 5173,
    headers: { 'Content-Security-Policy': CSP },
    ...(proxy ? { proxy } : {}),
  },
})
