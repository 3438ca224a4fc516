// `node --import ./electron-stub-hooks.ts dist/main/main.js`: `electron` resolves to the stub.
import { registerHooks } from 'node:module'

const stub = new URL('./electron-stub.ts', import.meta.url).href

registerHooks({
  resolve: (specifier, context, next) =>
    specifier === 'electron' ? { url: stub, shortCircuit: true } : next(specifier, context),
})
