// Shared helpers of the simulator tests: token requests, a consent shortcut and a real loopback server.

import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Simulator, TokenResponseBody } from '../../sim';

/** The default client credentials. */
export const CLIENT = { client_id: 'sim-client-id', client_secret: 'sim-client-secret' } as const;

/** A refresh_token grant as JSON. */
export function refresh(app: Express, refreshToken: string) {
  return request(app)
    .post('/oauth/token')
    .send({ grant_type: 'refresh_token', ...CLIENT, refresh_token: refreshToken });
}

/** A consent whose refresh token is known to exist. */
export function consentWithRefreshToken(
  sim: Simulator,
  accountId = 'sim-user-1',
): Required<TokenResponseBody> {
  const body = sim.consent(accountId);
  if (body.refresh_token === undefined) throw new Error('The default consent has offline_access');
  return body as Required<TokenResponseBody>;
}

/** Rotates once and returns the new refresh token. */
export async function rotate(app: Express, refreshToken: string): Promise<string> {
  const res = await refresh(app, refreshToken).expect(200);
  return (res.body as TokenResponseBody).refresh_token as string;
}

/** A real server on an ephemeral loopback port, for tests that need real sockets (hangs, fetch). */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The JSON body of a refresh_token grant, for fetch. */
export function refreshBody(refreshToken: string): string {
  return JSON.stringify({ grant_type: 'refresh_token', ...CLIENT, refresh_token: refreshToken });
}

/**
 * Yields to the event loop until `condition` holds: a wait for a precise server-side event (a socket
 * held, a rotation committed), never a sleep. Fails after `maxTurns` turns.
 */
export async function until(condition: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn += 1) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('Condition not reached');
}
