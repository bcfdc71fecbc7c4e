// The popup's pages: every value escaped (a site's name comes from Atlassian's answer), only the
// router's script, and a stylesheet the Content-Security-Policy allows by its hash.

import { createHash } from 'node:crypto';
import { CONSENT_RESULTS, PAGE_CSP, resultPage, siteChoicePage } from '../../src/consent/consent-pages';

test('site names, URLs and cloudIds are escaped in text and attributes', () => {
  const html = siteChoicePage([
    { cloudId: `x" onclick="alert(1)`, url: 'https://a.atlassian.net', name: '<script>alert(1)</script>' },
  ]);
  expect(html).not.toContain('<script>alert');
  expect(html).not.toContain('" onclick="');
  expect(html).toContain('&#x3c;script&#x3e;alert(1)&#x3c;/script&#x3e;');
  expect(html).toContain('value="x&#x22; onclick&#x3d;&#x22;alert(1)"');
});

test.each(Object.keys(CONSENT_RESULTS))(
  'the %s page names its result and loads only consent.js',
  (result) => {
    const html = resultPage(result as keyof typeof CONSENT_RESULTS);
    expect(html).toContain(`<main data-jtr-consent data-result="${result}">`);
    expect([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual(['<script src="consent.js">']);
  },
);

test("the inline stylesheet is the one the CSP's hash allows", () => {
  const style = /<style>([^<]*)<\/style>/.exec(resultPage('connected'))![1];
  const hash = createHash('sha256').update(style, 'utf8').digest('base64');
  expect(PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
});
