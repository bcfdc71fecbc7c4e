// Telling a token request that cannot have reached the server (sent again at once) from one that
// may have (sent again only after the commit horizon): by error code, then against real sockets
// with Node's own fetch, so the codes undici really raises are the ones the table lists.

import { once } from 'node:events';
import { type Server, type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyFetchFailure } from '../../src/oauth/fetch-failure';
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
