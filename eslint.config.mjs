import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Outside the package, only its published entries may be imported: the app, its tests, the
// benchmarks and the examples use jira-token-rotation as a vendor would.
const packageInternals = {
  patterns: [
    {
      group: [
        '**/lib/src',
        '**/lib/src/**',
        '**/lib/dist/**',
        'jira-token-rotation/*',
        '!jira-token-rotation/ace',
      ],
      message: "Import 'jira-token-rotation' or 'jira-token-rotation/ace', not the package's files.",
    },
  ],
};

// Nothing outside test/ imports test/: the production build (tsconfig.build.json) holds no test
// code, and chaos runs share support/ with the tests instead.
const testCode = {
  group: ['**/test', '**/test/**'],
  message: 'Only tests import test/; move shared code to support/ (chaos and tests share it).',
};

export default tseslint.config(
  { ignores: ['dist/', '**/dist/', 'dist-test/', 'node_modules/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lib/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['*.ts', 'app/**', 'routes/**', 'sim/**', 'bench/**', 'chaos/**', 'test/**', 'examples/**'],
    rules: { 'no-restricted-imports': ['error', packageInternals] },
  },
  {
    files: ['*.ts', 'app/**', 'routes/**', 'sim/**', 'bench/**', 'chaos/**', 'support/**', 'examples/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...packageInternals.patterns, testCode] }],
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The examples are plain CommonJS for Node, run as they are after `npm install`.
    files: ['examples/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        Buffer: 'readonly',
        exports: 'writable',
        __filename: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
