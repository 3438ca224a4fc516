// Lint rules, including the import boundaries of DESIGN.md as an allowlist per folder
// (lint/import-allowlist.ts): the renderer sees only engine/api, the engine never imports electron,
// and each engine folder imports only from the layers below it.
import js from '@eslint/js'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import tseslint from 'typescript-eslint'
import { allowlist } from './lint/import-allowlist.ts'
import { importBoundaries } from './lint/import-boundaries.ts'

const root = dirname(fileURLToPath(import.meta.url))

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.toolchain/**', '.cache/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs,ts,tsx,mts,cts}'],
    plugins: { vireo: { rules: { 'import-boundaries': importBoundaries } } },
    rules: { 'vireo/import-boundaries': ['error', { root, allowlist }] },
  },
)
