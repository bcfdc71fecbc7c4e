// OAuthClient: building token requests, classifying every answer by what it means for the chain,
// and turning fetch failures (refused, reset, timeout, oversized bodies) into outcomes.

import {
  MAX_TOKEN_RESPONSE_BYTES,
  OAuthClient,
  type OAuthClientOptions,
  TokenExchangeError,
  buildTokenRequest,
  processTokenResponse,
} from '../../src/oauth/oauth-client';
import type { RefreshOutcome } from '../../src/oauth/refresh-outcome';

const TOKEN_URL = 'https://auth.example.test/oauth/token';
const REFRESH_TOKEN = 'rt-secret-refresh-token-value';
const CODE = 'auth-code-secret-value';
const REDIRECT_URI = 'https://app.example.test/connect/callback';

const base = { clientId: 'client-id-1', clientSecret: 'client-secret-1', tokenUrl: TOKEN_URL } as const;

interface RecordedCall {
  url: string;
  init: RequestInit;
}

/** A fake fetch that answers every call with `answer` and records what it was asked. */
function fakeFetch(answer: (call: RecordedCall) => Promise<Response> | Response): {
  fetch: typeof fetch;
  calls: RecordedCall[];
} {
  const calls: RecordedCall[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(url), init: init ?? {} };
    calls.push(call);
    return answer(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function client(fetch: typeof globalThis.fetch, overrides: Partial<OAuthClientOptions> = {}): OAuthClient {
  return new OAuthClient({ ...base, encoding: 'json', requestTimeoutMs: 5_000, fetch, ...overrides });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** An error shaped like undici's: `TypeError('fetch failed')` whose cause carries the socket code. */
function fetchFailed(code: string): TypeError {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code }),
  });
}

const validBody = {
  access_token: 'at-new',
  refresh_token: 'rt-new',
  expires_in: 3600,
  scope: 'read:jira-work offline_access',
  token_type: 'Bearer',
};

describe('buildTokenRequest', () => {
  const refreshGrant = { grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN } as const;

  it('builds a JSON body with the grant and the client credentials', () => {
    const { url, init } = buildTokenRequest({ ...base, encoding: 'json' }, refreshGrant);
    expect(url).toBe(TOKEN_URL);
    expect(init.method).toBe('POST');
    expect(init.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    expect(JSON.parse(init.body as string)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH_TOKEN,
      client_id: 'client-id-1',
      client_secret: 'client-secret-1',
    });
  });

  it('builds a form body (RFC 6749, client_secret_post) with the same fields', () => {
    const { init } = buildTokenRequest({ ...base, encoding: 'form' }, refreshGrant);
    expect(init.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    expect(Object.fromEntries(new URLSearchParams(init.body as string))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH_TOKEN,
      client_id: 'client-id-1',
      client_secret: 'client-secret-1',
    });
  });

  it('builds an authorization_code grant with the code and the redirect URI', () => {
    const { init } = buildTokenRequest(
      { ...base, encoding: 'form' },
      { grant_type: 'authorization_code', code: CODE, redirect_uri: REDIRECT_URI },
    );
    expect(Object.fromEntries(new URLSearchParams(init.body as string))).toEqual({
      grant_type: 'authorization_code',
      code: CODE,
      redirect_uri: REDIRECT_URI,
      client_id: 'client-id-1',
      client_secret: 'client-secret-1',
    });
  });

  it.each(['json', 'form'] as const)('refuses to follow redirects (%s)', (encoding) => {
    expect(buildTokenRequest({ ...base, encoding }, refreshGrant).init.redirect).toBe('error');
  });
});

describe('processTokenResponse', () => {
  const ok = (body: unknown) =>
    processTokenResponse(200, typeof body === 'string' ? body : JSON.stringify(body));

  describe('2xx', () => {
    it('accepts a valid response', () => {
      expect(ok(validBody)).toEqual({
        kind: 'ok',
        tokens: {
          accessToken: 'at-new',
          refreshToken: 'rt-new',
          expiresInSeconds: 3600,
          scope: 'read:jira-work offline_access',
        },
      });
    });

    it('accepts a lowercase token_type and a missing token_type or scope', () => {
      expect(ok({ ...validBody, token_type: 'bearer' })).toMatchObject({ kind: 'ok' });
      expect(ok({ access_token: 'at-new', refresh_token: 'rt-new', expires_in: 3600 })).toEqual({
        kind: 'ok',
        tokens: { accessToken: 'at-new', refreshToken: 'rt-new', expiresInSeconds: 3600, scope: undefined },
      });
    });

    it.each([
      ['missing', { access_token: 'at-new', expires_in: 3600 }],
      ['an empty string', { access_token: 'at-new', refresh_token: '', expires_in: 3600 }],
      ['null', { access_token: 'at-new', refresh_token: null, expires_in: 3600 }],
    ])('answers ok without a refresh token when it is %s', (_, body) => {
      const outcome = ok(body);
      expect(outcome).toEqual({
        kind: 'ok',
        tokens: { accessToken: 'at-new', refreshToken: undefined, expiresInSeconds: 3600, scope: undefined },
      });
    });

    it('accepts expires_in of exactly 366 days and rejects one second more', () => {
      expect(ok({ ...validBody, expires_in: 366 * 24 * 3600 })).toMatchObject({ kind: 'ok' });
      expect(ok({ ...validBody, expires_in: 366 * 24 * 3600 + 1 })).toEqual({
        kind: 'in_doubt',
        reason: 'bad_response',
        status: 200,
      });
    });

    it.each([
      ['malformed JSON', '{"access_token": "at-new", '],
      ['an HTML page', '<!doctype html><html><body>Service</body></html>'],
      ['an empty body', ''],
      ['a JSON array', JSON.stringify([validBody])],
      ['a JSON string', JSON.stringify('at-new')],
      ['JSON null', 'null'],
      ['a numeric access_token', JSON.stringify({ ...validBody, access_token: 12345 })],
      ['an empty access_token', JSON.stringify({ ...validBody, access_token: '' })],
      ['an access_token with whitespace', JSON.stringify({ ...validBody, access_token: 'at new' })],
      [
        'an access_token longer than 16 KiB',
        JSON.stringify({ ...validBody, access_token: 'a'.repeat(16 * 1024 + 1) }),
      ],
      ['a missing access_token', JSON.stringify({ ...validBody, access_token: undefined })],
      ['a string expires_in', JSON.stringify({ ...validBody, expires_in: '3600' })],
      ['a negative expires_in', JSON.stringify({ ...validBody, expires_in: -1 })],
      ['a zero expires_in', JSON.stringify({ ...validBody, expires_in: 0 })],
      [
        'an infinite expires_in (1e999)',
        '{"access_token":"at-new","refresh_token":"rt-new","expires_in":1e999}',
      ],
      ['a "NaN" expires_in', JSON.stringify({ ...validBody, expires_in: 'NaN' })],
      ['a null expires_in', JSON.stringify({ ...validBody, expires_in: null })],
      ['a missing expires_in', JSON.stringify({ ...validBody, expires_in: undefined })],
      ['an expires_in over a year', JSON.stringify({ ...validBody, expires_in: 400 * 24 * 3600 })],
      ["token_type 'mac'", JSON.stringify({ ...validBody, token_type: 'mac' })],
      ['a numeric token_type', JSON.stringify({ ...validBody, token_type: 1 })],
      ['a numeric refresh_token', JSON.stringify({ ...validBody, refresh_token: 42 })],
      ['a refresh_token with whitespace', JSON.stringify({ ...validBody, refresh_token: 'rt new' })],
    ])('is in doubt (bad_response) for a 200 with %s', (_, text) => {
      expect(processTokenResponse(200, text)).toEqual({
        kind: 'in_doubt',
        reason: 'bad_response',
        status: 200,
      });
    });
  });

  describe('errors, classified by the error field', () => {
    it.each([403, 400, 401])('invalid_grant with status %i is invalid_grant', (status) => {
      expect(processTokenResponse(status, JSON.stringify({ error: 'invalid_grant' }))).toEqual({
        kind: 'invalid_grant',
      });
    });

    it('keeps invalid_grant with a description', () => {
      const body = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
      expect(processTokenResponse(403, JSON.stringify(body))).toEqual({ kind: 'invalid_grant' });
    });

    it.each([
      [401, 'invalid_client'],
      [401, 'unauthorized_client'],
      [400, 'invalid_client'],
      [403, 'unauthorized_client'],
    ])('%i %s is invalid_client', (status, error) => {
      expect(processTokenResponse(status, JSON.stringify({ error }))).toEqual({ kind: 'invalid_client' });
    });

    it.each([
      [500, JSON.stringify({ error: 'server_error' })],
      [500, '<html><body>Internal Server Error</body></html>'],
      [502, '<html><body>Bad Gateway</body></html>'],
      [502, JSON.stringify({ message: 'bad gateway' })],
      [503, JSON.stringify({ error: 'temporarily_unavailable' })],
      [503, '<html><body>Service Unavailable</body></html>'],
      [504, ''],
    ])('%i is in doubt (server_error): %s', (status, text) => {
      expect(processTokenResponse(status, text)).toEqual({
        kind: 'in_doubt',
        reason: 'server_error',
        status,
      });
    });

    it('429 without a body did not rotate', () => {
      expect(processTokenResponse(429, '')).toEqual({ kind: 'not_rotated', status: 429 });
    });

    it('429 with an OAuth error did not rotate', () => {
      expect(processTokenResponse(429, JSON.stringify({ error: 'too_many_requests' }))).toEqual({
        kind: 'not_rotated',
        status: 429,
        error: 'too_many_requests',
      });
    });

    it('400 invalid_request did not rotate', () => {
      expect(processTokenResponse(400, JSON.stringify({ error: 'invalid_request' }))).toEqual({
        kind: 'not_rotated',
        status: 400,
        error: 'invalid_request',
      });
    });

    it.each([
      ['an echoed refresh token', 'eyJhbGciOi.rt-Secret_123'],
      ['a sentence', 'invalid_request: refresh_token rt-secret'],
      ['an overlong word', 'x'.repeat(41)],
    ])('a refusal whose error is not a snake_case code (%s) reports it as unrecognized', (_name, error) => {
      // Invariant 6: the error field is logged, and a gateway may echo the request into it.
      expect(processTokenResponse(400, JSON.stringify({ error }))).toEqual({
        kind: 'not_rotated',
        status: 400,
        error: 'unrecognized',
      });
    });

    it('404 with an HTML page is in doubt (bad_response)', () => {
      expect(processTokenResponse(404, '<html><body>Not Found</body></html>')).toEqual({
        kind: 'in_doubt',
        reason: 'bad_response',
        status: 404,
      });
    });

    it('a 3xx is in doubt (bad_response)', () => {
      expect(processTokenResponse(302, '')).toEqual({
        kind: 'in_doubt',
        reason: 'bad_response',
        status: 302,
      });
    });

    it('never copies the error description (which may echo the token) into the outcome', () => {
      const body = { error: 'invalid_request', error_description: `bad refresh_token ${REFRESH_TOKEN}` };
      expect(JSON.stringify(processTokenResponse(400, JSON.stringify(body)))).not.toContain(REFRESH_TOKEN);
    });
  });
});

describe('OAuthClient.refresh', () => {
  it('posts one request with the refresh token and answers ok', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, validBody));
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'ok',
      tokens: {
        accessToken: 'at-new',
        refreshToken: 'rt-new',
        expiresInSeconds: 3600,
        scope: validBody.scope,
      },
    });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(TOKEN_URL);
    expect(calls[0].init.redirect).toBe('error');
    expect(calls[0].init.signal).toBeInstanceOf(AbortSignal);
    expect(JSON.parse(calls[0].init.body as string)).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: REFRESH_TOKEN,
    });
  });

  it('sends a form body when configured', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, validBody));
    await client(fetch, { encoding: 'form' }).refresh(REFRESH_TOKEN);
    expect(new URLSearchParams(calls[0].init.body as string).get('refresh_token')).toBe(REFRESH_TOKEN);
  });

  it('classifies the answer (403 invalid_grant)', async () => {
    const { fetch } = fakeFetch(() => json(403, { error: 'invalid_grant' }));
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({ kind: 'invalid_grant' });
  });

  it.each([
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
  ])('is not_sent when the connection failed before sending (%s)', async (code) => {
    const { fetch } = fakeFetch(() => Promise.reject(fetchFailed(code)));
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({ kind: 'not_sent', error: code });
  });

  it("is not_sent, without calling fetch, when the caller's signal aborted before sending", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, validBody));
    const controller = new AbortController();
    controller.abort();
    await expect(client(fetch).refresh(REFRESH_TOKEN, controller.signal)).resolves.toEqual({
      kind: 'not_sent',
      error: 'aborted',
    });
    expect(calls).toHaveLength(0);
  });

  it('is in doubt (network) when the connection was reset', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(fetchFailed('ECONNRESET')));
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'network',
    });
  });

  it('is in doubt (network) for an error without a code', async () => {
    const { fetch } = fakeFetch(() =>
      Promise.reject(new TypeError('fetch failed', { cause: new Error('other side closed') })),
    );
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'network',
    });
  });

  it('is in doubt (timeout) when the endpoint does not answer within requestTimeoutMs', async () => {
    let signal: AbortSignal | undefined;
    const { fetch } = fakeFetch(
      ({ init }) =>
        new Promise<Response>((_, reject) => {
          signal = init.signal!;
          signal.addEventListener('abort', () => reject(signal!.reason));
        }),
    );
    const started = performance.now();
    await expect(client(fetch, { requestTimeoutMs: 50 }).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'timeout',
    });
    expect(signal!.aborted).toBe(true);
    // Timer granularity allows a little early firing, never a wait far beyond the budget.
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("is in doubt when the caller's signal aborts a request that may have been sent", async () => {
    const { fetch } = fakeFetch(
      ({ init }) =>
        new Promise<Response>((_, reject) => {
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason));
        }),
    );
    const controller = new AbortController();
    const outcome = client(fetch).refresh(REFRESH_TOKEN, controller.signal);
    controller.abort();
    await expect(outcome).resolves.toMatchObject({ kind: 'in_doubt' });
  });

  it('is in doubt (bad_response) for a declared content-length over 64 KiB, without reading it', async () => {
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += 1;
          controller.enqueue(new TextEncoder().encode(JSON.stringify(validBody)));
          controller.close();
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const { fetch } = fakeFetch(
      () =>
        new Response(body, {
          status: 200,
          headers: { 'content-length': String(MAX_TOKEN_RESPONSE_BYTES + 1) },
        }),
    );
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'bad_response',
      status: 200,
    });
    expect(pulled).toBe(0);
    expect(cancelled).toBe(true);
  });

  /** A valid token body padded (through `scope`) to exactly `bytes` bytes, streamed in 4 KiB chunks without a length. */
  function streamedTokenBody(bytes: number): { response: Response; cancelled: () => boolean } {
    const head = JSON.stringify({ ...validBody, scope: '' });
    const text = head.replace('"scope":""', `"scope":"${'s'.repeat(bytes - head.length)}"`);
    const encoded = new TextEncoder().encode(text);
    expect(encoded.byteLength).toBe(bytes);
    let offset = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (offset >= encoded.byteLength) {
            controller.close();
            return;
          }
          controller.enqueue(encoded.slice(offset, offset + 4096));
          offset += 4096;
        },
        cancel() {
          cancelled = true;
        },
      },
      // Pulled only on demand, so the stream is still open (and cancellable) when the cap is hit.
      { highWaterMark: 0 },
    );
    const response = new Response(stream, { status: 200 });
    expect(response.headers.get('content-length')).toBeNull();
    return { response, cancelled: () => cancelled };
  }

  it('is in doubt (bad_response) for a streamed body over 64 KiB without a content-length', async () => {
    const { response, cancelled } = streamedTokenBody(MAX_TOKEN_RESPONSE_BYTES + 1);
    const { fetch } = fakeFetch(() => response);
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toEqual({
      kind: 'in_doubt',
      reason: 'bad_response',
      status: 200,
    });
    expect(cancelled()).toBe(true);
  });

  it('reads a streamed body of exactly 64 KiB', async () => {
    const { response } = streamedTokenBody(MAX_TOKEN_RESPONSE_BYTES);
    const { fetch } = fakeFetch(() => response);
    await expect(client(fetch).refresh(REFRESH_TOKEN)).resolves.toMatchObject({
      kind: 'ok',
      tokens: { accessToken: 'at-new', refreshToken: 'rt-new' },
    });
  });

  it('never puts the refresh token into any outcome', async () => {
    const answers: Array<() => Promise<Response> | Response> = [
      () => json(200, validBody),
      () =>
        json(400, {
          error: 'invalid_request',
          error_description: `refresh_token ${REFRESH_TOKEN} is malformed`,
        }),
      () => json(403, { error: 'invalid_grant', error_description: `Unknown token ${REFRESH_TOKEN}` }),
      () => new Response(`<html>${REFRESH_TOKEN}</html>`, { status: 500 }),
      () => Promise.reject(fetchFailed('ECONNRESET')),
      () => Promise.reject(fetchFailed('ECONNREFUSED')),
      () => Promise.reject(new Error(`failed with ${REFRESH_TOKEN}`)),
    ];
    const outcomes: RefreshOutcome[] = [];
    for (const answer of answers) outcomes.push(await client(fakeFetch(answer).fetch).refresh(REFRESH_TOKEN));
    expect(outcomes.map((o) => o.kind)).toEqual([
      'ok',
      'not_rotated',
      'invalid_grant',
      'in_doubt',
      'in_doubt',
      'not_sent',
      'in_doubt',
    ]);
    expect(JSON.stringify(outcomes)).not.toContain(REFRESH_TOKEN);
  });
});

describe('OAuthClient.exchangeCode', () => {
  async function exchangeError(answer: () => Promise<Response> | Response): Promise<TokenExchangeError> {
    const error = await client(fakeFetch(answer).fetch)
      .exchangeCode(CODE, REDIRECT_URI)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TokenExchangeError);
    return error as TokenExchangeError;
  }

  it('exchanges a code for tokens with an authorization_code grant', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, validBody));
    await expect(client(fetch).exchangeCode(CODE, REDIRECT_URI)).resolves.toEqual({
      accessToken: 'at-new',
      refreshToken: 'rt-new',
      expiresInSeconds: 3600,
      scope: validBody.scope,
    });
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0].init.body as string)).toEqual({
      grant_type: 'authorization_code',
      code: CODE,
      redirect_uri: REDIRECT_URI,
      client_id: 'client-id-1',
      client_secret: 'client-secret-1',
    });
  });

  it.each([
    ['missing', { access_token: 'at-new', expires_in: 3600 }],
    ['empty', { access_token: 'at-new', refresh_token: '', expires_in: 3600 }],
  ])('fails with bad_response when the refresh token is %s', async (_, body) => {
    const error = await exchangeError(() => json(200, body));
    expect(error.reason).toBe('bad_response');
    expect(error.message).toMatch(/offline_access/);
  });

  it('fails with invalid_grant when the code is rejected', async () => {
    expect((await exchangeError(() => json(403, { error: 'invalid_grant' }))).reason).toBe('invalid_grant');
  });

  it('fails with invalid_client when the credentials are rejected', async () => {
    expect((await exchangeError(() => json(401, { error: 'invalid_client' }))).reason).toBe('invalid_client');
  });

  it.each([
    ['a 500', () => json(500, { error: 'server_error' }), 'upstream'],
    ['a 429', () => new Response('', { status: 429 }), 'upstream'],
    ['a refused connection', () => Promise.reject(fetchFailed('ECONNREFUSED')), 'upstream'],
    ['a reset connection', () => Promise.reject(fetchFailed('ECONNRESET')), 'upstream'],
    ['an unreadable 200', () => new Response('<html></html>', { status: 200 }), 'bad_response'],
  ] as const)('fails with %s as %s', async (_, answer, reason) => {
    expect((await exchangeError(answer)).reason).toBe(reason);
  });

  it('never puts the code or the client secret into an error message', async () => {
    const answers: Array<() => Promise<Response> | Response> = [
      () => json(200, { access_token: 'at-new', expires_in: 3600 }),
      () => json(403, { error: 'invalid_grant', error_description: `code ${CODE} is invalid` }),
      () => json(401, { error: 'invalid_client' }),
      () => new Response(`<html>${CODE}</html>`, { status: 502 }),
      () => new Response(`<html>${CODE}</html>`, { status: 200 }),
      () => Promise.reject(new Error(`failed with ${CODE}`)),
    ];
    for (const answer of answers) {
      const error = await exchangeError(answer);
      expect(error.message).not.toContain(CODE);
      expect(error.message).not.toContain('client-secret-1');
      expect(String(error.stack)).not.toContain(CODE);
    }
  });
});
