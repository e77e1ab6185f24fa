// The project's lint rules: ESLint's and typescript-eslint's recommended sets, without type
// information (the type checker runs on its own, `npm run typecheck`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.local/**', 'libs/proto/gen/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  // The desk's, the console's and the chat widget's own scripts run in the browser.
  {
    files: ['services/*/public/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
    rules: { 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  // Tests read JSON frames and hostile values loosely.
  { files: ['**/test/**/*.ts', 'test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    rules: {
      // A leading underscore names what is left unused on purpose (a skipped field, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Input validation matches control characters on purpose.
      'no-control-regex': 'off',
      // Climbing into libs/ goes through the #libs/ alias (tsconfig.json).
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+libs/', message: "import shared code as '#libs/<name>'" }] }],
    },
  },
);
