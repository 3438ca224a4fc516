// Lint rules, including the import boundaries of DESIGN.md: the renderer sees only engine/api,
// and the engine never imports electron (it runs under plain Node as well as in a utility process).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

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
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'The engine runs under plain Node: no electron.' },
            {
              group: ['**/renderer/**', '**/main/**', '**/preload/**'],
              message: 'The engine depends on no UI layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+engine/(?!api/)',
              message: 'The renderer may import only engine/api (the contract), nothing else of the engine.',
            },
            { group: ['electron', 'node:*'], message: 'The renderer is sandboxed: no electron, no Node.' },
          ],
        },
      ],
    },
  },
)
