// A real browser (Debian's Chromium, or the one CHROMIUM_PATH names; driven by playwright-core) on
// `npm start`'s sandbox: the host page on one origin frames 30 macros from another, the user
// connects Jira once through the simulator's consent popup, an hour passes, and the reload renders
// 30 macros behind exactly one rotation. It also writes the screenshot the README shows (copied to
// docs/sandbox.png by hand).

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Frame, type Page, chromium } from 'playwright-core';
import { chromiumPath } from '../support/chromium-path';
import { type SandboxProcess, startSandboxProcess } from '../support/sandbox-process';

const CHROMIUM = chromiumPath();
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const MACROS = 30;
const SCREENSHOT = join(__dirname, '../artifacts/sandbox.png');
/**
 * Generous, for two cores shared with the other suites: under \`npm test\` the whole scenario took up
 * to 89 s, against 32-37 s alone. Conditions are awaited, never time.
 */
const CONDITION_TIMEOUT_MS = 60_000;

interface SimStats {
  rotations: number;
  leewayReuses: number;
  revocations: number;
  codeExchanges: number;
}

let sandbox: SandboxProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // Not a skip: without Chromium this suite must fail, and say what to install.
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it), or set CHROMIUM_PATH`,
    );
  }
  [sandbox, browser] = await Promise.all([
    startSandboxProcess({}, CONDITION_TIMEOUT_MS),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
}, 2 * CONDITION_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
});

/** The macro iframes' frames, in page order. */
function macroFrames(page: Page): Frame[] {
  return page.frames().filter((frame) => frame.parentFrame() === page.mainFrame());
}

/** Waits until every one of the 30 macros shows `state`, then returns what each macro's DOM says. */
async function macroStates(page: Page, state: string): Promise<(string | null)[]> {
  for (let i = 1; i <= MACROS; i += 1) {
    await page
      .frameLocator(`iframe[data-macro="${i}"]`)
      .locator(`main.macro[data-state="${state}"]`)
      .waitFor({ timeout: CONDITION_TIMEOUT_MS });
  }
  return Promise.all(
    macroFrames(page).map((frame) => frame.locator('main.macro').getAttribute('data-state')),
  );
}

async function simStats(): Promise<SimStats> {
  const response = await fetch(`${sandbox!.sandboxOrigin}/sim/stats`);
  expect(response.status).toBe(200);
  return (await response.json()) as SimStats;
}

test(
  `${MACROS} macros on another origin: one consent in a popup, then one rotation for the reload an hour later`,
  async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(sandbox!.sandboxUrl);
    await expect(page.locator('iframe[data-macro]').count()).resolves.toBe(MACROS);
    expect(await macroStates(page, 'connect')).toEqual(Array(MACROS).fill('connect'));

    // The macros are on the app's origin, not the page's, and the browser keeps them apart.
    const pageOrigin = new URL(page.url()).origin;
    const appOrigin = await page.locator('[data-sandbox]').getAttribute('data-app-origin');
    expect(appOrigin).not.toBe(pageOrigin);
    const frames = macroFrames(page);
    expect(frames.map((frame) => new URL(frame.url()).origin)).toEqual(Array(MACROS).fill(appOrigin));
    const canReachHost = await frames[0].evaluate(() => {
      try {
        return window.parent.document !== null;
      } catch {
        return false;
      }
    });
    expect(canReachHost).toBe(false);

    // Connect Jira in the first macro: the simulator's consent page opens in a popup.
    const popupOpened = context.waitForEvent('page');
    await page.frameLocator('iframe[data-macro="1"]').getByRole('button', { name: 'Connect Jira' }).click();
    const popup = await popupOpened;
    const popupClosed = popup.waitForEvent('close', { timeout: CONDITION_TIMEOUT_MS });
    await popup.locator('[data-action="accept"]').click({ timeout: CONDITION_TIMEOUT_MS });
    // The result page closes the popup, and the macro reloads the page once /jira/status says so.
    await popupClosed;
    expect(await macroStates(page, 'ready')).toEqual(Array(MACROS).fill('ready'));
    expect(await simStats()).toMatchObject({
      codeExchanges: 1,
      rotations: 0,
      leewayReuses: 0,
      revocations: 0,
    });

    // An hour on (the access token lives 3600 s), the page reloads: 30 requests, one rotation.
    const reloaded = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
      timeout: CONDITION_TIMEOUT_MS,
    });
    await page.getByRole('button', { name: 'Advance the simulator clock by 1 hour, then reload' }).click();
    await reloaded;
    expect(await macroStates(page, 'ready')).toEqual(Array(MACROS).fill('ready'));
    expect(await simStats()).toMatchObject({
      codeExchanges: 1,
      rotations: 1,
      leewayReuses: 0,
      revocations: 0,
    });

    // The page's own counter says the same, then the README's screenshot.
    await page
      .locator('[data-stats]', { hasText: 'Simulator: 1 rotation(s), 0 revocation(s), 1 consent(s).' })
      .waitFor({ timeout: CONDITION_TIMEOUT_MS });
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    await context.close();
  },
  4 * CONDITION_TIMEOUT_MS,
);
