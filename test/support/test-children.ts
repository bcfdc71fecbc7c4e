// Where tests find the child processes they fork: `npm run build:test` compiles them into
// dist-test/ (tsconfig.test-children.json), so the production build in dist/ holds no test code.

import { join } from 'node:path';

/** The repository's root, from this file in test/support/. */
const ROOT = join(__dirname, '../..');

/** A test child compiled by `npm run build:test`, e.g. `testChild('fault-child')`. */
export function testChild(
  name: 'fault-child' | 'manager-child' | 'failover-child' | 'late-reply-child',
): string {
  return join(ROOT, 'dist-test/test/support', `${name}.js`);
}

/** The chaos worker, which `npm run build` compiles with the chaos runs (dist/chaos/). */
export const CHAOS_WORKER = join(ROOT, 'dist/chaos/chaos-child.js');
