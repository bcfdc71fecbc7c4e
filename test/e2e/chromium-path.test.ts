// Which browser the e2e suite drives: Debian's Chromium unless CHROMIUM_PATH names another, so
// a machine with Chromium elsewhere runs the suite without editing it.

import { DEFAULT_CHROMIUM, chromiumPath } from '../support/chromium-path';

describe('chromiumPath', () => {
  test('CHROMIUM_PATH overrides the default', () => {
    expect(chromiumPath({ CHROMIUM_PATH: '/opt/chrome-linux64/chrome' })).toBe('/opt/chrome-linux64/chrome');
  });

  test("unset or empty: Debian's /usr/bin/chromium", () => {
    expect(DEFAULT_CHROMIUM).toBe('/usr/bin/chromium');
    expect(chromiumPath({})).toBe('/usr/bin/chromium');
    expect(chromiumPath({ CHROMIUM_PATH: '' })).toBe('/usr/bin/chromium');
  });

  test('a relative path is refused, naming the variable', () => {
    expect(() => chromiumPath({ CHROMIUM_PATH: 'chromium' })).toThrow(
      new TypeError('CHROMIUM_PATH must be an absolute path to a Chromium executable'),
    );
  });
});
