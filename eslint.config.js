import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['schemas/validators.generated.ts', 'dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', 'bench/.work/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The dashboard's and the console's plain ES modules run in the browser, not in Node.
    files: ['controller/src/dashboard/public/**/*.js', 'agent/src/console/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly', Node: 'readonly',
        URLSearchParams: 'readonly', Intl: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        history: 'readonly', EventSource: 'readonly', Blob: 'readonly', URL: 'readonly',
        DOMParser: 'readonly', sessionStorage: 'readonly',
      },
    },
  },
);
