// Telling a token request that cannot have reached the server (sent again at once) from one that
// may have (sent again only after the commit horizon): by error code, then against real sockets
// with Node's own fetch, so the codes undici really raises are the ones the table lists. Then which
// answers may still be followed by a commit (a gateway's 502 or 504) and which ended the exchange.

import { once } from 'node:events';
import { type Server, type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyFetchFailure, mayCommitLate } from '../../src/oauth/fetch-failure';
import { type RefreshOutcome, retriableAtOnce } from '../../src/oauth/refresh-outcome';
import { OAuthClient } from '../../src/oauth/oauth-client';

/** An error shaped like undici's: `TypeError('fetch failed')` whose cause carries the code. */
function fetchFailed(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`failed ${code}`), { code }) });
}

describe('classifyFetchFailure', () => {
  it.each([
    'ENOTFOUND',
    'EAI_AGAIN',
    'ECONNREFUSED',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_SSL_WRONG_VERSION_NUMBER',
  ])('%s: cannot have reached the server', (code) => {
    expect(classifyFetchFailure(fetchFailed(code), false)).toEqual({ sent: false, error: code });
  });

  it.each([
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'UND_ERR_SOCKET',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
  ])('%s: may have reached the server', (code) => {
    expect(classifyFetchFailure(fetchFailed(code), false)).toEqual({ sent: 'maybe', reason: 'network' });
  });

  it('an error without a code may have reached the server', () => {
    const error = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect(classifyFetchFailure(error, false)).toEqual({ sent: 'maybe', reason: 'network' });
  });

  it('a timeout may have reached the server, even before any code is known', () => {
    expect(classifyFetchFailure(new DOMException('timed out', 'TimeoutError'), false)).toEqual({
      sent: 'maybe',
      reason: 'timeout',
    });
    expect(classifyFetchFailure(new DOMException('aborted', 'AbortError'), true)).toEqual({
      sent: 'maybe',
      reason: 'timeout',
    });
  });

  it('a not-sent code wins over the timeout that fired while connecting', () => {
    expect(classifyFetchFailure(fetchFailed('ECONNREFUSED'), true)).toEqual({
      sent: false,
      error: 'ECONNREFUSED',
    });
  });
});

describe('OAuthClient.refresh against real sockets', () => {
  let server: Server | undefined;
  /** Requests whose whole body the server read. */
  let bodiesRead = 0;

  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    server = undefined;
  });

  /** A loopback server that reads each request's body, then does `then`. */
  async function serve(then: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    bodiesRead = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        bodiesRead += 1;
        then(req, res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
  }

  function client(tokenUrl: string, requestTimeoutMs = 5_000): OAuthClient {
    return new OAuthClient({
      clientId: 'client-id',
      clientSecret: 'client-secret',
      tokenUrl,
      encoding: 'json',
      requestTimeoutMs,
      fetch: globalThis.fetch,
    });
  }

  it('a closed port: not_sent ECONNREFUSED', async () => {
    const url = await serve(() => undefined);
    server!.close();
    await once(server!, 'close');
    server = undefined;
    await expect(client(url).refresh('rt')).resolves.toEqual({ kind: 'not_sent', error: 'ECONNREFUSED' });
  });

  it('a name that does not resolve: not_sent', async () => {
    const outcome = await client('http://token-endpoint.invalid/oauth/token').refresh('rt');
    expect(outcome).toEqual({ kind: 'not_sent', error: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
  });

  it('the socket destroyed after the body was read: in_doubt (network)', async () => {
    const url = await serve((req) => req.socket.destroy());
    await expect(client(url).refresh('rt')).resolves.toEqual({ kind: 'in_doubt', reason: 'network' });
    expect(bodiesRead).toBe(1);
  });

  it('no answer after the body was read: in_doubt (timeout)', async () => {
    const url = await serve(() => undefined);
    await expect(client(url, 200).refresh('rt')).resolves.toEqual({ kind: 'in_doubt', reason: 'timeout' });
    expect(bodiesRead).toBe(1);
  });

  it('a 502 after the body was read: in_doubt (server_error)', async () => {
    const url = await serve((_req, res) => res.writeHead(502).end('<html>Bad Gateway</html>'));
    await expect(client(url).refresh('rt')).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'server_error',
      status: 502,
    });
  });

  it('a signal aborted before sending: not_sent, and the server saw nothing', async () => {
    let connections = 0;
    const url = await serve(() => undefined);
    server!.on('connection', () => (connections += 1));
    const aborted = AbortSignal.abort();
    await expect(client(url).refresh('rt', aborted)).resolves.toEqual({ kind: 'not_sent', error: 'aborted' });
    expect(connections).toBe(0);
  });
});

describe('mayCommitLate', () => {
  it.each([
    ['timeout', undefined],
    ['network', undefined],
    ['server_error', 502],
    ['server_error', 504],
    ['bad_response', 502],
    ['bad_response', 504],
  ] as const)('%s (status %s): may still reach the server', (reason, status) => {
    expect(mayCommitLate(reason, status)).toBe(true);
  });

  it.each([
    ['server_error', 500],
    ['server_error', 501],
    ['server_error', 503],
    ['server_error', 599],
    ['bad_response', 200],
    ['bad_response', undefined],
    ['missing_refresh_token', 200],
    ['holder_died', undefined],
  ] as const)('%s (status %s): the exchange is over', (reason, status) => {
    expect(mayCommitLate(reason, status)).toBe(false);
  });
});

describe('retriableAtOnce', () => {
  it.each<[string, RefreshOutcome]>([
    ['not_sent', { kind: 'not_sent', error: 'ECONNREFUSED' }],
    ['a 500', { kind: 'in_doubt', reason: 'server_error', status: 500 }],
    ['a 503', { kind: 'in_doubt', reason: 'server_error', status: 503 }],
  ])('%s: sent again at once', (_, outcome) => {
    expect(retriableAtOnce(outcome)).toBe(true);
  });

  it.each<[string, RefreshOutcome]>([
    ['a 502', { kind: 'in_doubt', reason: 'server_error', status: 502 }],
    ['a 504', { kind: 'in_doubt', reason: 'server_error', status: 504 }],
    ['a timeout', { kind: 'in_doubt', reason: 'timeout' }],
    ['a reset', { kind: 'in_doubt', reason: 'network' }],
    ['an unreadable 200', { kind: 'in_doubt', reason: 'bad_response', status: 200 }],
    ['an oversized 500', { kind: 'in_doubt', reason: 'bad_response', status: 500 }],
    ['ok', { kind: 'ok', tokens: { accessToken: 'a', expiresInSeconds: 3600 } }],
    ['invalid_grant', { kind: 'invalid_grant' }],
    ['invalid_client', { kind: 'invalid_client' }],
    ['a 429', { kind: 'not_rotated', status: 429 }],
  ])('%s: not sent again at once', (_, outcome) => {
    expect(retriableAtOnce(outcome)).toBe(false);
  });
});
