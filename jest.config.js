// Tests are transpiled by SWC without type checking: `tsc --noEmit` runs once in `npm test`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Node's Symbol.dispose/asyncDispose in the test realm (see the file).
  setupFiles: ['<rootDir>/test/support/node-dispose-symbols.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 30_000,
  // Redis and child-process tests share the machine's two cores.
  maxWorkers: 2,
};
