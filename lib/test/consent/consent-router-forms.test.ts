// The router parses the popup's form posts itself (no parser mounted, express 4 or 5): 16 KiB at
// most, measured inflated, 413 over it, 415 for what it cannot decode, and only single string
// fields count. A refused body stores nothing and claims no launch.

import { gzipSync } from 'node:zlib';
import type request from 'supertest';
import {
  EXPRESS_MAJORS,
  type RouterHarness,
  TENANT,
  USER,
  resultOf,
  startRouterHarness,
} from './router-harness';

const KB = 1024;

describe.each(EXPRESS_MAJORS)('form bodies on %s', (_name, express) => {
  let h: RouterHarness;
  beforeAll(async () => {
    h = await startRouterHarness(express, { router: { rateLimit: { limit: 1_000, windowMs: 60_000 } } });
  });
  afterAll(async () => {
    await h.close();
  });

  const launch = () => h.consent.launches.issue({ clientKey: TENANT, accountId: USER });

  test.each(['/jira/connect', '/jira/site'])(
    'POST %s: over 16 KiB is a 413; just under is parsed',
    async (path) => {
      const over = await h
        .http()
        .post(path)
        .type('form')
        .send({ launch: 'x'.repeat(16 * KB) });
      expect({ status: over.status, text: over.text }).toEqual({ status: 413, text: 'Payload Too Large' });
      expect(over.headers['set-cookie']).toBeUndefined();
      const under = await h
        .http()
        .post(path)
        .type('form')
        .send({ launch: 'x'.repeat(15 * KB) });
      expect({ status: under.status, result: resultOf(under.text) }).toEqual({
        status: 400,
        result: 'expired',
      });
    },
  );

  test('a compressed body is measured inflated: a gzip bomb is a 413; a small gzip form is read', async () => {
    const send = (body: Buffer, encoding: string) =>
      h
        .http()
        .post('/jira/connect')
        .set('content-type', 'application/x-www-form-urlencoded')
        .set('content-encoding', encoding)
        .serialize((b: Buffer) => b as unknown as string)
        .send(body);
    const bomb = gzipSync(Buffer.from(`launch=${'0'.repeat(1024 * KB)}`));
    expect(bomb.length).toBeLessThan(4 * KB);
    expect((await send(bomb, 'gzip')).status).toBe(413);
    const token = launch();
    const small = await send(gzipSync(Buffer.from(`launch=${encodeURIComponent(token)}`)), 'gzip');
    expect(small.status).toBe(303);
    expect(new URL(small.headers.location as string).searchParams.get('client_id')).toBe('sim-client-id');
    // The launch was claimed by that post: sent again, it is spent.
    const again = await h.http().post('/jira/connect').type('form').send({ launch: token });
    expect(resultOf(again.text)).toBe('expired');
  });

  test('unknown encodings and charsets are a 415, broken gzip a 400', async () => {
    const token = launch();
    const body = `launch=${encodeURIComponent(token)}`;
    const post = () =>
      h
        .http()
        .post('/jira/connect')
        .serialize((b: string) => b);
    expect(
      (
        await post()
          .set('content-type', 'application/x-www-form-urlencoded')
          .set('content-encoding', 'br-unknown')
          .send(body)
      ).status,
    ).toBe(415);
    expect(
      (await post().set('content-type', 'application/x-www-form-urlencoded; charset=latin1').send(body))
        .status,
    ).toBe(415);
    expect(
      (
        await post()
          .set('content-type', 'application/x-www-form-urlencoded')
          .set('content-encoding', 'gzip')
          .send(body)
      ).status,
    ).toBe(400);
    // None of them claimed the launch.
    expect((await h.http().post('/jira/connect').type('form').send({ launch: token })).status).toBe(303);
  });

  test('a repeated field, a bracketed one or another content type carries no launch', async () => {
    const token = launch();
    const refused = async (req: request.Test) => {
      const res = await req;
      expect({ status: res.status, result: resultOf(res.text) }).toEqual({ status: 400, result: 'expired' });
      expect(res.headers['set-cookie']).toBeUndefined();
    };
    const e = encodeURIComponent;
    await refused(
      h
        .http()
        .post('/jira/connect')
        .type('form')
        .send(`launch=${e(token)}&launch=${e(token)}`),
    );
    await refused(
      h
        .http()
        .post('/jira/connect')
        .type('form')
        .send(`launch[k]=${e(token)}`),
    );
    await refused(h.http().post('/jira/connect').send({ launch: token }));
    await refused(
      h
        .http()
        .post('/jira/connect')
        .type('text')
        .send(`launch=${e(token)}`),
    );
    // Still unclaimed: a well-formed post starts the consent.
    expect((await h.http().post('/jira/connect').type('form').send({ launch: token })).status).toBe(303);
  });
});

describe.each(EXPRESS_MAJORS)("a body the app's own parsers already read, on %s", (_name, express) => {
  let h: RouterHarness;
  beforeAll(async () => {
    h = await startRouterHarness(express, { parsers: true });
  });
  afterAll(async () => {
    await h.close();
  });

  test('is taken from req.body: single strings only', async () => {
    const token = h.consent.launches.issue({ clientKey: TENANT, accountId: USER });
    // JSON parsed by the app: an array is no launch, and the launch stays unclaimed.
    const array = await h
      .http()
      .post('/jira/connect')
      .send({ launch: [token] });
    expect({ status: array.status, result: resultOf(array.text) }).toEqual({
      status: 400,
      result: 'expired',
    });
    const form = await h.http().post('/jira/connect').type('form').send({ launch: token });
    expect(form.status).toBe(303);
    expect(new URL(form.headers.location as string).searchParams.get('client_id')).toBe('sim-client-id');
  });
});
