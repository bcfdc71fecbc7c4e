// Scripted outcomes of the refresh grant: what is committed, what is answered, and close() releasing held sockets.

import request from 'supertest';
import { createSimulator, type Simulator } from '../../sim';
import { consentWithRefreshToken, listen, refresh, refreshBody, rotate, until } from './helpers';

let sim: Simulator;
let server: { url: string; close(): Promise<void> } | undefined;

beforeEach(() => {
  sim = createSimulator();
});

afterEach(async () => {
  sim.close();
  await server?.close();
  server = undefined;
});

function postToken(url: string, body: string, signal?: AbortSignal) {
  return fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal,
  });
}

describe('scripted outcomes', () => {
  it('ok answers normally', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['ok']);
    await refresh(sim.app, rt0).expect(200);
    expect(sim.stats()).toMatchObject({
      rotations: 1,
      chaos: { serverErrors: 0, timeouts: 0, drops: 0, missingRefreshTokens: 0 },
    });
  });

  it('server_error answers 500 HTML and commits nothing', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['server_error']);
    const res = await refresh(sim.app, rt0).expect(500);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Internal Server Error');
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({ rotations: 0, chaos: { serverErrors: 1 } });
    await refresh(sim.app, rt0).expect(200);
  });

  it('server_error_after_commit rotates, then answers 502 HTML', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['server_error_after_commit']);
    const res = await refresh(sim.app, rt0).expect(502);
    expect(res.text).toContain('Bad Gateway');
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { serverErrors: 1 } });
  });

  it('gateway_timeout answers 504 HTML and commits nothing', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['gateway_timeout']);
    const res = await refresh(sim.app, rt0).expect(504);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Gateway Timeout');
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({ rotations: 0, chaos: { serverErrors: 1 } });
    await refresh(sim.app, rt0).expect(200);
  });

  it('gateway_timeout_after_commit rotates, then answers 504 HTML', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['gateway_timeout_after_commit']);
    const res = await refresh(sim.app, rt0).expect(504);
    expect(res.text).toContain('Gateway Timeout');
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { serverErrors: 1 } });
  });

  it('drop_after_commit rotates, then destroys the socket', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['drop_after_commit']);
    await expect(refresh(sim.app, rt0)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { drops: 1 } });
  });

  it('missing_refresh_token rotates, answers 200 without refresh_token, and the old token recovers in the leeway', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['missing_refresh_token']);
    const res = await refresh(sim.app, rt0).expect(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    const recovered = await rotate(sim.app, rt0);
    expect(sim.refreshTokenStatus(recovered)).toBe('current');
    expect(sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, chaos: { missingRefreshTokens: 1 } });
  });

  it('missing_refresh_token on a dead token answers invalid_grant and counts no chaos', async () => {
    sim.scriptOutcomes(['missing_refresh_token']);
    await refresh(sim.app, 'unknown').expect(403);
    expect(sim.stats()).toMatchObject({ invalidGrant: 1, chaos: { missingRefreshTokens: 0 } });
  });

  it('hang commits nothing and never answers; the client gives up', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['hang']);
    const client = new AbortController();
    const pending = postToken(server.url, refreshBody(rt0), client.signal);
    await until(() => sim.stats().chaos.timeouts === 1);
    client.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(sim.refreshTokenStatus(rt0)).toBe('current');
    expect(sim.stats()).toMatchObject({ tokenRequests: 1, rotations: 0, chaos: { timeouts: 1 } });
  });

  it('hang_after_commit rotates and never answers; the client times out', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['hang_after_commit']);
    const client = new AbortController();
    const pending = postToken(server.url, refreshBody(rt0), client.signal);
    await until(() => sim.stats().chaos.timeouts === 1);
    client.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    expect(sim.stats()).toMatchObject({ rotations: 1, chaos: { timeouts: 1 } });
    // The in-doubt retry with the same token inside the leeway saves the chain.
    const res = await postToken(server.url, refreshBody(rt0));
    expect(res.status).toBe(200);
    expect(sim.stats().leewayReuses).toBe(1);
  });

  it('consumes outcomes in order, then falls back to ok', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['server_error', 'server_error_after_commit']);
    await refresh(sim.app, rt0).expect(500);
    await refresh(sim.app, rt0).expect(502);
    await refresh(sim.app, rt0).expect(200);
    expect(sim.stats()).toMatchObject({ rotations: 1, leewayReuses: 1, chaos: { serverErrors: 2 } });
  });

  it('takes precedence over rates', async () => {
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.setChaos({ serverErrorRate: 1 });
    sim.scriptOutcomes(['ok']);
    await refresh(sim.app, rt0).expect(200);
    await refresh(sim.app, rt0).expect(500);
  });

  it('applies only to refresh grants with valid client credentials', async () => {
    sim.scriptOutcomes(['server_error']);
    await request(sim.app)
      .post('/oauth/token')
      .send({ grant_type: 'refresh_token', client_id: 'x', client_secret: 'y', refresh_token: 'z' })
      .expect(401);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    await refresh(sim.app, rt0).expect(500);
  });
});

describe('close()', () => {
  it('destroys held sockets, so a hung client sees the connection end', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.scriptOutcomes(['hang_after_commit']);
    const pending = postToken(server.url, refreshBody(rt0));
    await until(() => sim.stats().chaos.timeouts === 1);
    sim.close();
    await expect(pending).rejects.toThrow('fetch failed');
  });

  it('cancels delayed answers after their commit', async () => {
    server = await listen(sim.app);
    const { refresh_token: rt0 } = consentWithRefreshToken(sim);
    sim.setChaos({ latencyMs: 60_000 });
    const pending = postToken(server.url, refreshBody(rt0));
    await until(() => sim.stats().rotations === 1);
    // Committed before answering: the slow answer is the dangerous case for a client.
    expect(sim.refreshTokenStatus(rt0)).toBe('previous');
    sim.close();
    await expect(pending).rejects.toThrow('fetch failed');
  });
});
