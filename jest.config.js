// Tests are transpiled by SWC without type checking: `tsc --noEmit` runs once in `npm test`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/lib/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  // The package's entries are its sources here, so the app's tests and the package's own share one
  // copy of every class (built children load lib/dist through node_modules, as a vendor would).
  moduleNameMapper: {
    '^jira-token-rotation$': '<rootDir>/lib/src/index.ts',
    '^jira-token-rotation/(.*)$': '<rootDir>/lib/src/$1/index.ts',
  },
  // Node's Symbol.dispose/asyncDispose in the test realm (see the file).
  setupFiles: ['<rootDir>/test/support/node-dispose-symbols.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/dist-test/'],
  testTimeout: 30_000,
  // Redis and child-process tests share the machine's two cores.
  maxWorkers: 2,
};
