// The Jira gateway subset: site access, scopes, myself, and search/jql paging and fields.

import express from 'express';
import request from 'supertest';
import { createSimulator, DEFAULT_SITES, type Simulator } from '../../sim';
import { consentWithRefreshToken, refresh, rotate } from './helpers';

const SANDBOX = DEFAULT_SITES[0].id;
const OTHER = DEFAULT_SITES[1].id;
const api = (cloudId: string, path: string) => `/ex/jira/${cloudId}/rest/api/3${path}`;

function search(sim: Simulator, token: string, query: Record<string, string | number | string[]> = {}) {
  return request(sim.app).get(api(SANDBOX, '/search/jql')).query(query).auth(token, { type: 'bearer' });
}

describe('GET /ex/jira/{cloudId}/rest/api/3/myself', () => {
  it('describes the user on a site the account reaches', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-2');
    const res = await request(sim.app).get(api(OTHER, '/myself')).auth(at, { type: 'bearer' }).expect(200);
    expect(res.body).toMatchObject({
      accountId: 'sim-user-2',
      displayName: 'Sim User Two',
      emailAddress: 'sim-user-2@example.com',
      active: true,
    });
    expect(sim.stats()).toMatchObject({ apiRequests: 1, apiUnauthorized: 0 });
  });

  it('answers 401 for a site the account does not reach and 404 for an unknown site', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    expect(
      (await request(sim.app).get(api(OTHER, '/myself')).auth(at, { type: 'bearer' }).expect(401)).body,
    ).toEqual({
      code: 401,
      message: 'Unauthorized',
    });
    await request(sim.app).get(api('no-such-cloud', '/myself')).auth(at, { type: 'bearer' }).expect(404);
    expect(sim.stats()).toMatchObject({ apiRequests: 2, apiUnauthorized: 1 });
  });

  it('needs read:jira-user', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1', 'read:jira-work read:me offline_access');
    const res = await request(sim.app).get(api(SANDBOX, '/myself')).auth(at, { type: 'bearer' }).expect(401);
    expect(res.body.message).toBe('Unauthorized; scope does not match');
  });
});

describe('search/jql', () => {
  it('returns every generated issue on one page by default', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const res = await search(sim, at, { jql: 'project = SAND ORDER BY created DESC' }).expect(200);
    expect(res.body.isLast).toBe(true);
    expect(res.body.nextPageToken).toBeUndefined();
    expect(res.body.issues).toHaveLength(25);
    expect(res.body.issues[0]).toEqual({
      id: '10000',
      key: 'SAND-1',
      self: expect.stringMatching(new RegExp(`/ex/jira/${SANDBOX}/rest/api/3/issue/10000$`)),
      fields: {
        summary: 'Renew the signing certificate (#1)',
        status: { name: 'To Do' },
        assignee: { displayName: 'Sim User One' },
        issuetype: { name: 'Task' },
      },
    });
    expect(res.body.issues[2].fields.assignee).toBeNull();
    expect(res.body.issues[24].key).toBe('SAND-25');
  });

  it('pages with nextPageToken until isLast', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const keys: string[] = [];
    const pages: boolean[] = [];
    let token: string | undefined;
    do {
      const res = await search(sim, at, {
        maxResults: 10,
        ...(token ? { nextPageToken: token } : {}),
      }).expect(200);
      keys.push(...res.body.issues.map((i: { key: string }) => i.key));
      pages.push(res.body.isLast);
      token = res.body.nextPageToken;
    } while (token !== undefined);
    expect(pages).toEqual([false, false, true]);
    expect(keys).toEqual(Array.from({ length: 25 }, (_, i) => `SAND-${i + 1}`));
    expect(sim.stats().apiRequests).toBe(3);
  });

  it('caps maxResults at 100', async () => {
    const sim = createSimulator({ issuesPerSite: 150 });
    const { access_token: at } = sim.consent('sim-user-1');
    const res = await search(sim, at, { maxResults: 500 }).expect(200);
    expect(res.body.issues).toHaveLength(100);
    expect(res.body.isLast).toBe(false);
  });

  it('selects fields, comma-separated or repeated', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const one = await search(sim, at, { fields: 'summary,status', maxResults: 1 }).expect(200);
    expect(one.body.issues[0].fields).toEqual({
      summary: 'Renew the signing certificate (#1)',
      status: { name: 'To Do' },
    });
    const repeated = await search(sim, at, { fields: ['issuetype', 'nonsense'], maxResults: 1 }).expect(200);
    expect(repeated.body.issues[0].fields).toEqual({ issuetype: { name: 'Task' } });
    const minus = await search(sim, at, { fields: '*all,-summary', maxResults: 1 }).expect(200);
    expect(Object.keys(minus.body.issues[0].fields)).toEqual(['status', 'assignee', 'issuetype']);
  });

  it('accepts POST with a JSON body', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-2');
    const res = await request(sim.app)
      .post(api(OTHER, '/search/jql'))
      .auth(at, { type: 'bearer' })
      .send({ jql: 'assignee = currentUser()', maxResults: 2, fields: ['summary'] })
      .expect(200);
    expect(res.body.issues.map((i: { key: string }) => i.key)).toEqual(['OTHE-1', 'OTHE-2']);
    expect(res.body.issues[1].fields).toEqual({ summary: 'Macro renders blank after an hour (#2)' });
    const next = await request(sim.app)
      .post(api(OTHER, '/search/jql'))
      .auth(at, { type: 'bearer' })
      .send({ maxResults: 2, nextPageToken: res.body.nextPageToken })
      .expect(200);
    expect(next.body.issues[0].key).toBe('OTHE-3');
  });

  it.each([
    [{ maxResults: 0 }, 'maxResults must be a positive integer.'],
    [{ maxResults: 'ten' }, 'maxResults must be a positive integer.'],
    [{ nextPageToken: 'garbage' }, 'The nextPageToken is invalid.'],
  ])('answers 400 to %j', async (query, message) => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const res = await search(sim, at, query).expect(400);
    expect(res.body).toEqual({ errorMessages: [message], errors: {} });
  });

  it('refuses a page token of another site', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-2');
    const first = await search(sim, at, { maxResults: 1 }).expect(200);
    await request(sim.app)
      .get(api(OTHER, '/search/jql'))
      .query({ nextPageToken: first.body.nextPageToken })
      .auth(at, { type: 'bearer' })
      .expect(400);
  });

  it('needs read:jira-work and a reachable site', async () => {
    const sim = createSimulator();
    const { access_token: noWork } = sim.consent('sim-user-1', 'read:me offline_access');
    await search(sim, noWork).expect(401);
    const { access_token: at } = sim.consent('sim-user-1');
    await request(sim.app).get(api(OTHER, '/search/jql')).auth(at, { type: 'bearer' }).expect(401);
    await request(sim.app).get(api('nowhere', '/search/jql')).auth(at, { type: 'bearer' }).expect(404);
    expect(sim.stats()).toMatchObject({ apiRequests: 3, apiUnauthorized: 2 });
  });

  it('answers to valid, expired and revoked-family tokens as Atlassian does', async () => {
    const sim = createSimulator();
    const { refresh_token: rt0, access_token: at0 } = consentWithRefreshToken(sim);
    const rt1 = await rotate(sim.app, rt0);
    await rotate(sim.app, rt1);
    await refresh(sim.app, rt0).expect(403);
    // The family is revoked, but the access token is a self-contained JWT at Atlassian: still valid.
    await search(sim, at0).expect(200);
    sim.clock.advance(3600 * 1000);
    expect((await search(sim, at0).expect(401)).body).toEqual({ code: 401, message: 'Unauthorized' });
  });

  it('builds issue self links from the mount point', async () => {
    const sim = createSimulator();
    const { access_token: at } = sim.consent('sim-user-1');
    const host = express().use('/sim', sim.app);
    const res = await request(host)
      .get(`/sim${api(SANDBOX, '/search/jql')}`)
      .query({ maxResults: 1 })
      .auth(at, { type: 'bearer' })
      .expect(200);
    expect(new URL(res.body.issues[0].self).pathname).toBe(`/sim/ex/jira/${SANDBOX}/rest/api/3/issue/10000`);
  });
});
