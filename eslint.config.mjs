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

export default tseslint.config(
  { ignores: ['dist/', '**/dist/', 'node_modules/', 'coverage/', 'bench/results/'] },
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
