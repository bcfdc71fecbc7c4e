// Oversized and malformed bodies: every body the app parses has a small limit (JSON 64 KiB, for
// the lifecycle hooks; forms 16 KiB, for the popup), checked on the inflated size, before any
// route or authentication runs. Over it: 413, nothing stored, the body in no log line, no 500.
// Oversized tokens in headers or URLs are refused by Node itself (431).

import { gzipSync } from 'node:zlib';
import { type TestApp, USER, resultOf, startTestApp } from './helpers';

const KB = 1024;
/** Searched for in the logs: a refused body must not be written anywhere. */
const MARK = 'BODY-MARK-7f3a';

describe('body limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const installBody = (padding: number) => ({
    key: t.running.addon.key,
    clientKey: 'tenant-oversized',
    sharedSecret: `${MARK}-secret`,
    baseUrl: 'https://oversized.atlassian.net/wiki',
    productType: 'confluence',
    eventType: 'installed',
    description: `${MARK}${'x'.repeat(padding)}`,
  });
  const expectRefused = async (res: { status: number; text: string }, status: number) => {
    expect(res.status).toBe(status);
    expect(res.text).not.toContain(MARK);
    expect(t.logger.text()).not.toContain(MARK);
    expect(t.logger.events('request_failed')).toEqual([]);
    expect(await t.running.addon.settings.get('clientInfo', 'tenant-oversized')).toBeNull();
  };

  test.each(['/installed', '/uninstalled'])('POST %s: JSON over 64 KiB is a 413', async (path) => {
    const res = await t
      .http()
      .post(path)
      .send(installBody(64 * KB));
    await expectRefused(res, 413);
    expect(res.text).toBe('Payload Too Large');
    // Just under the limit it is parsed, and refused for what it is: unsigned (401).
    await expectRefused(
      await t
        .http()
        .post(path)
        .send(installBody(60 * KB)),
      401,
    );
  });

  test.each(['/jira/connect', '/jira/site'])('POST %s: a form over 16 KiB is a 413', async (path) => {
    const res = await t
      .http()
      .post(path)
      .type('form')
      .send({ launch: `${MARK}${'x'.repeat(16 * KB)}` });
    await expectRefused(res, 413);
    // Just under: parsed, and the launch (or choice) refused as expired.
    const under = await t
      .http()
      .post(path)
      .type('form')
      .send({ launch: `${MARK}${'x'.repeat(15 * KB)}` });
    await expectRefused(under, 400);
    expect(resultOf(under.text)).toBe('expired');
  });

  test('a compressed body is measured inflated: a 1 MiB gzip bomb is a 413', async () => {
    const bomb = gzipSync(Buffer.from(JSON.stringify({ description: `${MARK}${'0'.repeat(1024 * KB)}` })));
    expect(bomb.length).toBeLessThan(4 * KB);
    const res = await t
      .http()
      .post('/installed')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      // As is: superagent would serialize a Buffer as JSON.
      .serialize((body: Buffer) => body as unknown as string)
      .send(bomb);
    await expectRefused(res, 413);
  });

  test('malformed JSON, unknown charsets and encodings are 4xx, never 500', async () => {
    const send = (body: string, type: string, encoding?: string) => {
      const req = t
        .http()
        .post('/installed')
        .set('content-type', type)
        .serialize((text: string) => text);
      return (encoding ? req.set('content-encoding', encoding) : req).send(body);
    };
    await expectRefused(await send(`{"description":"${MARK}"`, 'application/json'), 400);
    await expectRefused(await send('['.repeat(60 * KB), 'application/json'), 400);
    await expectRefused(await send(`{"d":"${MARK}"}`, 'application/json; charset=latin1'), 415);
    await expectRefused(await send(`{"d":"${MARK}"}`, 'application/json', 'br-unknown'), 415);
    await expectRefused(await send(`{"d":"${MARK}"}`, 'application/json', 'gzip'), 400);
  });

  test('a 100 KiB token in a header or URL is a 431 from Node; in a form, a 413', async () => {
    const token = `${MARK}${'a'.repeat(100 * KB)}`;
    await expectRefused(await t.http().post('/jira/launch').set('authorization', `JWT ${token}`), 431);
    await expectRefused(await t.http().get(`/macro/jira-issues?jwt=${token}`), 431);
    await expectRefused(await t.http().post('/jira/launch').type('form').send({ jwt: token }), 413);
    // The app still answers afterwards.
    expect((await t.macro(USER)).status).toBe(200);
  });
});
