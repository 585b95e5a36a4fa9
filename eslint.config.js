// ESLint flat config: `npm run lint`, which scripts/test.sh (and so CI) runs before the tests.
// typescript-eslint's recommended rules without type information (a run stays fast on two cores),
// plus the shape rules of issue 16: no runtime import cycle, no unused code, functions short
// enough to read at once, no file over 500 lines.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/** Longest function body, counting neither blank lines nor comments. */
const MAX_FUNCTION_LINES = 80;

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'ui/test-artifacts/**', '.lading/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Sources import './x.js' for './x.ts' (NodeNext); resolve that the way tsc does.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.tsx', '.js'], extensionAlias: { '.js': ['.ts', '.tsx', '.js'] } }),
      ],
    },
    rules: {
      // No runtime import cycle (`import type` is erased by tsc and does not count).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // No unused code. A leading underscore marks a binding kept on purpose (a skipped tuple
      // slot, a parameter a callback's signature requires, a property left out of a rest object).
      '@typescript-eslint/no-unused-vars': ['error', {
        args: 'after-used',
        argsIgnorePattern: '^_',
        varsIgnorePattern: '^_',
        caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_',
        ignoreRestSiblings: true,
      }],
      'max-lines-per-function': ['error', { max: MAX_FUNCTION_LINES, skipBlankLines: true, skipComments: true, IIFEs: true }],
      'max-lines': ['error', { max: 500 }],
      // Kysely<any> goes with the typed schema (issue 16); tests read JSON bodies as any.
      '@typescript-eslint/no-explicit-any': 'off',
      // Version comparators and sanitizers match NUL and other control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // A test file's describe() callback holds its tests: it is a list, not a function to read at once.
    files: ['**/*.test.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },

);
