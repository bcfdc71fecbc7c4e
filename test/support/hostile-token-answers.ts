// Hostile token-endpoint answers for property tests, and a fake endpoint that serves one of them to
// the first refresh of a chain, then answers well, checking which refresh token each request carries.

import fc from 'fast-check';
import type { TokenResponse } from 'jira-token-rotation';

/** Every token the fake hands out, good or hostile, contains this: logs and answers must not. */
export const MARK = 'ZqSECRETqZ';
export const CLIENT_SECRET = `client-secret-${MARK}`;
/** In a hostile answer, replaced by the refresh token the request carried (an echoing gateway). */
const ECHO = '{{RT}}';
/** In a hostile answer, replaced by the client secret (a gateway echoing the whole request). */
const ECHO_SECRET = '{{SECRET}}';

/**
 * One answer to a refresh request. `usable` marks the one kind a manager may take: a well-formed
 * 2xx token answer without a new refresh token (it keeps the old one and recovers in doubt).
 */
export type HostileAnswer =
  | {
      kind: 'http';
      status: number;
      contentType?: string;
      body: string | null;
      declareLength: boolean;
      usable?: true;
    }
  | { kind: 'throw'; shape: 'reset' | 'refused' | 'abort' | 'string' | 'null' | 'object' }
  | { kind: 'broken-stream'; status: number; prefix: string };

const DELETE = Symbol('delete');
type Field = unknown | typeof DELETE;

const token = fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,24}$/).map((s) => `${MARK}${s}`);
const lifetime = fc.integer({ min: 1, max: 366 * 24 * 3600 });
const longToken = fc.constant(`${MARK}${'a'.repeat(16 * 1024)}`);

/** A well-formed answer without its refresh token. */
const tokenFields = fc.record({
  access_token: token,
  expires_in: lifetime,
  token_type: fc.constantFrom<string | undefined>(undefined, 'Bearer', 'bearer'),
  scope: fc.option(fc.constantFrom('read:jira-work offline_access', ''), { nil: undefined }),
});

// Each of these makes a 2xx token answer unusable on its own.
const badAccessToken = fc.oneof(
  fc.constantFrom<Field>(DELETE, '', null, 0, 42, true, [], {}),
  token.map((t) => `${t} ${t}`),
  token.map((t) => `${t}\n`),
  longToken,
);
const badExpiresIn = fc.oneof(
  fc.constantFrom<Field>(DELETE, 0, '3600', null, true, [], 1e308),
  fc.integer({ max: -1 }),
  fc.double({ min: -1e9, max: 0, noNaN: true }),
  fc.integer({ min: 366 * 24 * 3600 + 1 }),
);
const badTokenType = fc.constantFrom<Field>('mac', 'Basic', '', 123, null, [], {});
const badRefreshToken = fc.oneof(
  fc.constantFrom<Field>(42, true, [], {}),
  token.map((t) => `${t} x`),
  longToken,
);

function build(fields: Record<string, unknown>, overrides: Record<string, Field>): string {
  const body: Record<string, unknown> = { ...fields };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === DELETE) delete body[name];
    else if (value !== undefined) body[name] = value;
  }
  return JSON.stringify(body);
}

/** A token answer with at least one field of the wrong type, missing, empty or out of range. */
const corruptedTokenBody = fc
  .record({
    fields: tokenFields,
    refresh_token: fc.option(token, { nil: undefined }),
    access_token: fc.option(badAccessToken, { nil: undefined }),
    expires_in: fc.option(badExpiresIn, { nil: undefined }),
    token_type: fc.option(badTokenType, { nil: undefined }),
    bad_refresh_token: fc.option(badRefreshToken, { nil: undefined }),
  })
  .filter((c) =>
    [c.access_token, c.expires_in, c.token_type, c.bad_refresh_token].some((v) => v !== undefined),
  )
  .map((c) =>
    build(
      { ...c.fields, refresh_token: c.refresh_token },
      {
        access_token: c.access_token,
        expires_in: c.expires_in,
        token_type: c.token_type,
        refresh_token: c.bad_refresh_token,
      },
    ),
  );

/** A complete, well-formed token answer (which a non-2xx status or a huge size still makes bad). */
const goodTokenBody = fc
  .tuple(tokenFields, token)
  .map(([fields, rt]) => JSON.stringify({ ...fields, refresh_token: rt }));

const notAnObject = fc.oneof(
  fc.constantFrom('null', '[]', '""', '0', 'true'),
  fc
    .jsonValue()
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map((v) => JSON.stringify(v)),
  goodTokenBody.map((b) => `[${b}]`),
);

const malformedJson = fc.oneof(
  goodTokenBody.chain((b) => fc.integer({ min: 1, max: b.length - 1 }).map((n) => b.slice(0, n))),
  fc.string(),
  fc.constantFrom(`{"access_token": "${MARK}",}`, `{'access_token': '${MARK}'}`, '{"expires_in": 3600'),
);

const htmlPage = fc
  .tuple(
    fc.constantFrom('500 Internal Server Error', '502 Bad Gateway', '503 Service Unavailable'),
    fc.boolean(),
  )
  .map(
    ([title, echo]) =>
      `<html><head><title>${title}</title></head><body><h1>${title}</h1>` +
      (echo ? `<pre>refresh_token=${ECHO}&client_secret=${ECHO_SECRET}</pre>` : '') +
      '</body></html>',
  );

const hugeBody = fc.oneof(
  fc.integer({ min: 64 * 1024 + 1, max: 1024 * 1024 }).map((n) => 'x'.repeat(n)),
  goodTokenBody.map((b) => `${b.slice(0, -1)},"padding":"${'p'.repeat(70 * 1024)}"}`),
);

/** Bodies no 2xx answer may be taken from. */
const bad2xxBody = fc.oneof(
  corruptedTokenBody,
  notAnObject,
  malformedJson,
  htmlPage,
  hugeBody,
  fc.constant(''),
);

/** An OAuth error answer: any `error` but invalid_grant (a real verdict, tested elsewhere). */
const oauthErrorBody = fc
  .record({
    error: fc.oneof(
      fc.constantFrom<unknown>(
        'invalid_request',
        'invalid_client',
        'unauthorized_client',
        'unsupported_grant_type',
        'invalid_scope',
        'temporarily_unavailable',
        'server_error',
        ECHO,
        `invalid_request ${ECHO}`,
        42,
        null,
        {},
      ),
      token,
      fc.string().filter((s) => s !== 'invalid_grant'),
    ),
    error_description: fc.constantFrom(undefined, 'Unauthorized', `bad refresh_token ${ECHO}`),
  })
  .map((b) => JSON.stringify(b));

const contentType = fc.constantFrom(undefined, 'application/json', 'text/html; charset=utf-8', 'text/plain');

export const hostileAnswer: fc.Arbitrary<HostileAnswer> = fc.oneof(
  // 2xx answers that must not be stored.
  fc.record({
    kind: fc.constant('http' as const),
    status: fc.constantFrom(200, 201, 202, 203, 206),
    contentType,
    body: bad2xxBody,
    declareLength: fc.boolean(),
  }),
  fc.constant<HostileAnswer>({ kind: 'http', status: 204, body: null, declareLength: false }),
  // Anything but 2xx, even with a complete token answer in it.
  fc.record({
    kind: fc.constant('http' as const),
    status: fc.oneof(
      fc.integer({ min: 300, max: 399 }).filter((s) => s !== 304),
      fc.integer({ min: 400, max: 599 }),
    ),
    contentType,
    body: fc.oneof(oauthErrorBody, goodTokenBody, bad2xxBody),
    declareLength: fc.boolean(),
  }),
  // A usable answer without a (non-empty) refresh token.
  fc
    .tuple(fc.constantFrom(200, 201), tokenFields, fc.constantFrom<Field>(DELETE, null, ''))
    .map(([status, fields, refresh]): HostileAnswer => ({
      kind: 'http',
      status,
      contentType: 'application/json',
      body: build(fields, { refresh_token: refresh }),
      declareLength: false,
      usable: true,
    })),
  fc.record({
    kind: fc.constant('throw' as const),
    shape: fc.constantFrom(
      'reset' as const,
      'refused' as const,
      'abort' as const,
      'string' as const,
      'null' as const,
      'object' as const,
    ),
  }),
  fc.record({
    kind: fc.constant('broken-stream' as const),
    status: fc.constantFrom(200, 502),
    prefix: goodTokenBody.map((b) => b.slice(0, 20)),
  }),
);

/** The access token a usable answer carries. */
export function usableAccessToken(answer: HostileAnswer): string | undefined {
  return answer.kind === 'http' && answer.usable
    ? (JSON.parse(answer.body!) as TokenResponse).access_token
    : undefined;
}

export interface Chain {
  current: string;
  hostile?: HostileAnswer;
  /** Every refresh token this chain's requests carried, in order. */
  received: string[];
  /** The last access token the fake issued for it. */
  accessToken: string;
}

/**
 * A token endpoint (as an injected `fetch`): a chain's first refresh gets its hostile answer; later
 * ones rotate, if and only if they carry the chain's current refresh token. Anything else is noted
 * as a violation (and answered `invalid_grant`, as Atlassian would).
 */
export class FakeTokenEndpoint {
  readonly violations: string[] = [];
  private readonly chains = new Map<string, Chain>();
  private issued = 0;

  /** A consent: a new chain, whose first refresh will get `hostile`. */
  consent(hostile: HostileAnswer): { tokens: TokenResponse; chain: Chain } {
    const tokens = this.issue();
    const chain: Chain = {
      current: tokens.refresh_token!,
      hostile,
      received: [],
      accessToken: tokens.access_token,
    };
    this.chains.set(chain.current, chain);
    return { tokens, chain };
  }

  readonly fetch: typeof fetch = async (_input, init) => {
    const refreshToken = String(
      (JSON.parse(String(init?.body)) as { refresh_token?: unknown }).refresh_token,
    );
    const chain = this.chains.get(refreshToken);
    if (!chain) {
      this.violations.push('a refresh token the fake never issued');
      return invalidGrant();
    }
    chain.received.push(refreshToken);
    const hostile = chain.hostile;
    if (hostile) {
      chain.hostile = undefined;
      return render(hostile, refreshToken);
    }
    if (refreshToken !== chain.current) {
      this.violations.push(`a retired refresh token (request ${chain.received.length} of its chain)`);
      return invalidGrant();
    }
    const tokens = this.issue();
    chain.current = tokens.refresh_token!;
    chain.accessToken = tokens.access_token;
    this.chains.set(chain.current, chain);
    return Response.json(tokens);
  };

  private issue(): TokenResponse {
    this.issued += 1;
    return {
      access_token: `${MARK}-access-${this.issued}`,
      refresh_token: `${MARK}-refresh-${this.issued}`,
      expires_in: 3600,
      token_type: 'Bearer',
    };
  }
}

function invalidGrant(): Response {
  return Response.json(
    { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
    { status: 403 },
  );
}

function render(answer: HostileAnswer, refreshToken: string): Response {
  const echo = (text: string): string =>
    text.split(ECHO).join(refreshToken).split(ECHO_SECRET).join(CLIENT_SECRET);
  switch (answer.kind) {
    case 'throw':
      throw thrown(answer.shape, echo(`read ECONNRESET ${ECHO}`));
    case 'broken-stream': {
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(answer.prefix));
          controller.error(new Error(echo(`socket hang up after ${ECHO}`)));
        },
      });
      return new Response(body, { status: answer.status });
    }
    case 'http': {
      const body = answer.body === null ? null : echo(answer.body);
      const headers = new Headers();
      if (answer.contentType) headers.set('content-type', answer.contentType);
      if (answer.declareLength && body !== null)
        headers.set('content-length', String(Buffer.byteLength(body)));
      return new Response(body, { status: answer.status, headers });
    }
  }
}

function thrown(shape: Extract<HostileAnswer, { kind: 'throw' }>['shape'], message: string): unknown {
  switch (shape) {
    case 'reset':
      return new TypeError('fetch failed', {
        cause: Object.assign(new Error(message), { code: 'ECONNRESET' }),
      });
    case 'refused':
      return new TypeError('fetch failed', {
        cause: Object.assign(new Error(message), { code: 'ECONNREFUSED' }),
      });
    case 'abort':
      return new DOMException(message, 'AbortError');
    case 'string':
      return message;
    case 'null':
      return null;
    case 'object':
      return { code: { message } };
  }
}
