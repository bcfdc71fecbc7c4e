// Tests are transpiled by SWC without type checking: `tsc --noEmit` runs once in `npm test`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 30_000,
  // Redis and child-process tests share the machine's two cores.
  maxWorkers: 2,
};
