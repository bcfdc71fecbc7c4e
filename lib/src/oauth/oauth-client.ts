// Atlassian's token endpoint: building a request and judging its answer are separate steps, and
// every answer is classified by what it means for the chain (did the server rotate or not?).

import type { TokenResponse } from '../types';
import { classifyFetchFailure } from './fetch-failure';
import type { RefreshOutcome, ValidTokens } from './refresh-outcome';

/** How the token endpoint expects its body. */
export type TokenRequestEncoding = 'json' | 'form';

export interface OAuthClientOptions {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  encoding: TokenRequestEncoding;
  /** Per request, milliseconds. */
  requestTimeoutMs: number;
  fetch: typeof fetch;
}

/** Token responses larger than this are not read: no real one comes close. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_EXPIRES_IN_SECONDS = 366 * 24 * 3600;

/** Thrown by {@link OAuthClient.exchangeCode} for a code exchange that did not yield tokens. */
export class TokenExchangeError extends Error {
  constructor(
    readonly reason: 'invalid_grant' | 'invalid_client' | 'upstream' | 'bad_response',
    message: string,
  ) {
    super(message);
    this.name = 'TokenExchangeError';
  }
}

/**
 * Builds the token request for a grant.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6 (refresh) and §4.1.3 (code)
 */
export function buildTokenRequest(
  options: Pick<OAuthClientOptions, 'clientId' | 'clientSecret' | 'tokenUrl' | 'encoding'>,
  grant:
    | { grant_type: 'refresh_token'; refresh_token: string }
    | { grant_type: 'authorization_code'; code: string; redirect_uri: string },
): { url: string; init: RequestInit } {
  const fields: Record<string, string> = {
    ...grant,
    client_id: options.clientId,
    client_secret: options.clientSecret,
  };
  const json = options.encoding === 'json';
  return {
    url: options.tokenUrl,
    init: {
      method: 'POST',
      headers: {
        'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
      redirect: 'error',
    },
  };
}

/**
 * Classifies a token endpoint answer. Errors are judged by the `error` field, not the status:
 * Atlassian answers 403 where RFC 6749 §5.2 says 400.
 */
export function processTokenResponse(status: number, bodyText: string): RefreshOutcome {
  const body = parseJsonObject(bodyText);
  if (status >= 200 && status < 300) {
    const tokens = body && validateTokenResponse(body);
    // A 2xx we cannot use may still have rotated the token at the server.
    return tokens ? { kind: 'ok', tokens } : { kind: 'in_doubt', reason: 'bad_response', status };
  }
  const error = body && typeof body.error === 'string' ? body.error : undefined;
  if (error === 'invalid_grant') return { kind: 'invalid_grant' };
  if (error === 'invalid_client' || error === 'unauthorized_client') return { kind: 'invalid_client' };
  if (status >= 500) return { kind: 'in_doubt', reason: 'server_error', status };
  // A definite 4xx answer (rate limit, malformed request): the server refused, it did not rotate.
  if (status >= 400 && error !== undefined)
    return { kind: 'not_rotated', status, error: loggableCode(error) };
  if (status === 429) return { kind: 'not_rotated', status };
  return { kind: 'in_doubt', reason: 'bad_response', status };
}

/** Validates a parsed 2xx token body; `null` when it cannot be used. */
export function validateTokenResponse(body: Record<string, unknown>): ValidTokens | null {
  const { access_token, refresh_token, expires_in, token_type, scope } = body as Partial<
    Record<keyof TokenResponse, unknown>
  >;
  if (!isToken(access_token)) return null;
  if (
    typeof expires_in !== 'number' ||
    !Number.isFinite(expires_in) ||
    expires_in <= 0 ||
    expires_in > MAX_EXPIRES_IN_SECONDS
  ) {
    return null;
  }
  if (token_type !== undefined && (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer'))
    return null;
  if (
    refresh_token !== undefined &&
    refresh_token !== null &&
    refresh_token !== '' &&
    !isToken(refresh_token)
  )
    return null;
  return {
    accessToken: access_token,
    refreshToken: isToken(refresh_token) ? refresh_token : undefined,
    expiresInSeconds: expires_in,
    scope: typeof scope === 'string' ? scope : undefined,
  };
}

/** Talks to the token endpoint. Never throws for a refresh: every failure is an outcome. */
export class OAuthClient {
  constructor(private readonly options: OAuthClientOptions) {}

  /** One refresh attempt with `refreshToken`; `signal` may abort it early. */
  async refresh(refreshToken: string, signal?: AbortSignal): Promise<RefreshOutcome> {
    const { url, init } = buildTokenRequest(this.options, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    const sent = await this.send(url, init, signal);
    if ('outcome' in sent) return sent.outcome;
    return processTokenResponse(sent.status, sent.body);
  }

  /**
   * Exchanges an authorization code (the end of a consent) for tokens.
   * @throws TokenExchangeError with a reason and a message that contains no secret.
   */
  async exchangeCode(code: string, redirectUri: string): Promise<ValidTokens & { refreshToken: string }> {
    const { url, init } = buildTokenRequest(this.options, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    });
    const sent = await this.send(url, init);
    if ('outcome' in sent)
      throw new TokenExchangeError('upstream', 'The token endpoint did not answer the code exchange');
    const outcome = processTokenResponse(sent.status, sent.body);
    switch (outcome.kind) {
      case 'ok':
        if (!outcome.tokens.refreshToken) {
          throw new TokenExchangeError(
            'bad_response',
            'The code exchange returned no refresh token (is offline_access granted?)',
          );
        }
        return { ...outcome.tokens, refreshToken: outcome.tokens.refreshToken };
      case 'invalid_grant':
        throw new TokenExchangeError(
          'invalid_grant',
          'The authorization code was rejected (expired, reused or for another redirect URI)',
        );
      case 'invalid_client':
        throw new TokenExchangeError('invalid_client', 'Atlassian rejected the app client credentials');
      default:
        throw new TokenExchangeError(
          outcome.kind === 'in_doubt' && outcome.reason === 'bad_response' ? 'bad_response' : 'upstream',
          `The token endpoint failed the code exchange (status ${outcome.status ?? 'none'})`,
        );
    }
  }

  private async send(
    url: string,
    init: RequestInit,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: string } | { outcome: RefreshOutcome }> {
    // An aborted caller (a lost lock) sends nothing, and nothing can have reached the server.
    if (signal?.aborted) return { outcome: { kind: 'not_sent', error: 'aborted' } };
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await this.options.fetch(url, { ...init, signal: combined });
      const body = await readCapped(response, MAX_TOKEN_RESPONSE_BYTES);
      if (body === null)
        return { outcome: { kind: 'in_doubt', reason: 'bad_response', status: response.status } };
      return { status: response.status, body };
    } catch (error) {
      const failure = classifyFetchFailure(error, timeout.aborted);
      return {
        outcome:
          failure.sent === false
            ? { kind: 'not_sent', error: failure.error }
            : { kind: 'in_doubt', reason: failure.reason },
      };
    }
  }
}

/** Reads at most `limit` bytes of a body; `null` when it is larger (an HTML page, an attack). */
async function readCapped(response: Response, limit: number): Promise<string | null> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The `error` of a refusal as it may travel into logs: RFC 6749 §5.2 codes are short snake_case
 * words, so one is kept as it is; anything else (a gateway echoing the request, and with it the
 * refresh token or the client secret) becomes `unrecognized` (invariant 6).
 */
function loggableCode(error: string): string {
  return /^[a-z][a-z_]{0,39}$/.test(error) ? error : 'unrecognized';
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function isToken(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH && !/\s/.test(value)
  );
}
