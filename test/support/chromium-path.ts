// Which Chromium the browser test drives: Debian's by default, or the one CHROMIUM_PATH names
// (another distribution's, a Chrome for Testing download, a CI image that installs it elsewhere).

import { isAbsolute } from 'node:path';

/** Debian's Chromium, which .ci/run installs. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * The browser executable: `CHROMIUM_PATH` when set and not empty, else {@link DEFAULT_CHROMIUM}.
 * @throws TypeError naming CHROMIUM_PATH when it is not an absolute path.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CHROMIUM_PATH;
  if (configured === undefined || configured === '') return DEFAULT_CHROMIUM;
  if (!isAbsolute(configured)) {
    throw new TypeError('CHROMIUM_PATH must be an absolute path to a Chromium executable');
  }
  return configured;
}
