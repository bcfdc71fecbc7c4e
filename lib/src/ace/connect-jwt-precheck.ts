// A Connect JWT is checked for shape and time before ACE sees it. ACE crashes (a 500) on an install
// token that is not a JWT at all (it reads the algorithm outside its error handling), and it
// accepts tokens that are not yet valid (`nbf` or `iat` in the future, RFC 7519 §4.1.5). This check
// only refuses, and goes in front of each route that authenticates a Connect JWT (macro, iframe
// calls, lifecycle hooks): the signature, `exp` and `qsh` stay ACE's.

import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger';

/** Options of {@link connectJwtPrecheck}. */
export interface ConnectJwtPrecheckOptions {
  /** Where refusals are logged (the reason, never the token). Required. */
  logger: Logger;
  /** Clock skew tolerated on `nbf` and `iat`, seconds. Default 60. */
  leewaySeconds?: number;
  /** The clock, epoch ms; ACE checks `exp` on the wall clock, so this does too. Default `Date.now`. */
  now?: () => number;
  /**
   * Accept only `AP.context.getToken()` tokens (`qsh` = `context-qsh`), for the iframe's API
   * calls. ACE's `checkValidToken()` skips `qsh` altogether, so without this a token copied from a
   * macro's iframe URL (where URLs are logged, kept in history, sent on) could launch a consent or
   * disconnect its user for three minutes. Default false.
   */
  contextTokensOnly?: boolean;
}

/** The `qsh` of the tokens `AP.context.getToken()` returns. */
const CONTEXT_QSH = 'context-qsh';

/** Why a token is refused. */
type Refusal = 'malformed' | 'not_yet_valid' | 'not_a_context_token';

/** The token ACE would read, in ACE's order: query or body `jwt`, then `Authorization: JWT …`, then `acpt`. */
function presentedToken(req: Request): unknown {
  // Express 5 leaves `req.body` undefined without a parser; its `req.query` is a getter.
  const body = (req.body ?? {}) as Record<string, unknown>;
  const inQueryOrBody = req.query?.jwt || body.jwt;
  if (inQueryOrBody) return inQueryOrBody;
  const header = req.headers.authorization;
  if (header?.startsWith('JWT ') && header.length > 4) return header.slice(4);
  return req.query.acpt || req.headers['x-acpt'] || undefined;
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function refusal(
  token: unknown,
  nowSeconds: number,
  leeway: number,
  contextTokensOnly: boolean,
): Refusal | null {
  if (typeof token !== 'string') return 'malformed';
  const segments = token.split('.');
  if (segments.length !== 3) return 'malformed';
  const header = decodeSegment(segments[0]);
  const claims = decodeSegment(segments[1]);
  if (!header || !claims || typeof header.alg !== 'string') return 'malformed';
  for (const name of ['nbf', 'iat'] as const) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'malformed';
    if (value > nowSeconds + leeway) return 'not_yet_valid';
  }
  if (contextTokensOnly && claims.qsh !== CONTEXT_QSH) return 'not_a_context_token';
  return null;
}

/**
 * Refuses with 401 (as ACE refuses: through the error handler) a request whose Connect JWT is not
 * three base64url segments with JSON object header and claims, or whose `nbf` or `iat` lies in the
 * future, or (with `contextTokensOnly`) whose `qsh` is not `context-qsh`. A request without a token goes on: the route's own authentication refuses it, or it
 * needs none.
 */
export function connectJwtPrecheck(options: ConnectJwtPrecheckOptions): RequestHandler {
  const logger = options?.logger;
  if (!logger || typeof logger.info !== 'function')
    throw new TypeError('connectJwtPrecheck: logger is required (a pino-compatible logger)');
  const leeway = options.leewaySeconds ?? 60;
  if (!Number.isFinite(leeway) || leeway < 0)
    throw new TypeError('connectJwtPrecheck: leewaySeconds must be 0 or more');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('connectJwtPrecheck: now must be a function');
  return (req, _res, next) => {
    const token = presentedToken(req);
    if (token === undefined || token === '') return next();
    const reason = refusal(token, Math.floor(now() / 1000), leeway, options.contextTokensOnly ?? false);
    if (!reason) return next();
    logger.info({ event: 'jwt_refused', reason }, 'Connect JWT refused before verification');
    next({ code: 401, message: `Connect JWT ${reason}` });
  };
}
