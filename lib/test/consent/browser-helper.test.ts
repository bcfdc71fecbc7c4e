// The browser helper (GET /jira/consent.js) in a real browser (Debian's Chromium), on a plain
// express 5 page with a header-based user: one call opens the popup inside the click, posts the
// launch into it, and resolves once the consent has ended; the popup's pages report to it.

import { existsSync } from 'node:fs';
import { chromiumPath } from '../../../test/support/chromium-path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { EXPRESS_MAJORS, type RouterHarness, USER, startRouterHarness } from './router-harness';

const CHROMIUM = chromiumPath();
const TIMEOUT_MS = 20_000;
const [, express5] = EXPRESS_MAJORS[1];

// The user is whatever the page says: the helper asks `headers` before each of its requests.
const PAGE = `<!doctype html><html><body>
<script src="/jira/consent.js"></script>
<button id="connect" onclick="window.outcome = JiraConsent.connect({
  base: '/jira/',
  headers: async () => (document.body.dataset.user ? { 'x-user': document.body.dataset.user } : {}),
  pollMs: Number(document.body.dataset.pollMs || 200),
}).then((value) => value, (error) => ({ error: error.code }))">Connect Jira</button>
</body></html>`;

interface Outcome {
  connected?: boolean;
  status?: unknown;
  result?: string;
  error?: string;
}

let browser: Browser;
let h: RouterHarness;
let context: BrowserContext;
let page: Page;
beforeAll(async () => {
  // Not a skip: without Chromium this suite must fail, and say what to install.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, TIMEOUT_MS);
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  h = await startRouterHarness(express5, { page: PAGE });
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(`${h.base}/`);
});
afterEach(async () => {
  await context.close();
  await h.close();
});

const asUser = (accountId: string | undefined) =>
  page.evaluate((id) => {
    if (id) document.body.dataset.user = id;
  }, accountId);
const outcome = () => page.evaluate(() => (window as unknown as { outcome: Promise<Outcome> }).outcome);

test(
  'a consent accepted in the popup: the popup closes itself and connect() resolves connected',
  async () => {
    await asUser(USER);
    // No status poll can end the wait before the popup's report does: the result is the report's.
    await page.evaluate(() => (document.body.dataset.pollMs = '600000'));
    const popupOpened = context.waitForEvent('page');
    await page.click('#connect');
    const popup = await popupOpened;
    const closed = popup.waitForEvent('close', { timeout: TIMEOUT_MS });
    await popup.locator('[data-action="accept"]').click({ timeout: TIMEOUT_MS });
    await closed;
    expect(await outcome()).toEqual({
      connected: true,
      status: { connected: true, state: 'active', site: 'https://sandbox.atlassian.net' },
      result: 'connected',
    });
    expect(h.sim.sim.stats().codeExchanges).toBe(1);
  },
  2 * TIMEOUT_MS,
);

test(
  'a denied consent: the popup shows it without the code or state in its address, and connect() resolves once it is closed',
  async () => {
    await asUser(USER);
    const popupOpened = context.waitForEvent('page');
    await page.click('#connect');
    const popup = await popupOpened;
    const errors: string[] = [];
    popup.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await popup.locator('[data-action="deny"]').click({ timeout: TIMEOUT_MS });
    await popup.locator('main[data-result="denied"]').waitFor({ timeout: TIMEOUT_MS });
    expect(popup.url()).toBe(`${h.base}/jira/callback`);
    // The page's Content-Security-Policy allows its own script and stylesheet, and nothing was refused.
    expect(await popup.evaluate(() => getComputedStyle(document.body).marginTop)).toBe('0px');
    expect(errors).toEqual([]);
    const closed = popup.waitForEvent('close', { timeout: TIMEOUT_MS });
    // The button closes its own window, which can end the page before Playwright's click returns:
    // that one error is the expected outcome; the close event below is what is asserted.
    await popup
      .locator('[data-action="close"]')
      .click()
      .catch((error: unknown) => {
        if (!/has been closed/.test(String(error))) throw error;
      });
    await closed;
    expect(await outcome()).toEqual({
      connected: false,
      status: { connected: false, state: 'not_connected' },
      result: 'denied',
    });
    expect(await h.status(USER)).toBeNull();
  },
  2 * TIMEOUT_MS,
);

test(
  'no launch token (an anonymous page): the popup is closed again and connect() rejects launch_failed',
  async () => {
    await asUser(undefined);
    const popupOpened = context.waitForEvent('page');
    await page.click('#connect');
    const popup = await popupOpened;
    const closed = popup.isClosed()
      ? Promise.resolve()
      : popup.waitForEvent('close', { timeout: TIMEOUT_MS });
    expect(await outcome()).toEqual({ error: 'launch_failed' });
    // The helper closed it (a timeout here fails the test): no empty popup is left behind.
    await closed;
  },
  2 * TIMEOUT_MS,
);
