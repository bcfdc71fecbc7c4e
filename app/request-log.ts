// One log line per request (pino-http), with the values of secret-bearing query parameters
// blanked: a macro URL carries a Connect JWT, a callback URL an OAuth code and state, the popup a
// launch token and ACE an `acpt` (invariant 6). No header is logged: they carry JWTs and cookies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { AppLogger } from './logger';

const SECRET_PARAMS = new Set(['jwt', 'code', 'state', 'launch', 'acpt']);

/** `originalUrl` with the values of `jwt`, `code`, `state`, `launch` and `acpt` replaced. */
export function redactUrl(originalUrl: string): string {
  const query = originalUrl.indexOf('?');
  if (query < 0) return originalUrl;
  const params = new URLSearchParams(originalUrl.slice(query + 1));
  for (const name of new Set(params.keys())) {
    // `code[x]=` is `code` to the query parser (an object), and as secret.
    if (SECRET_PARAMS.has(name.toLowerCase().replace(/\[.*$/s, ''))) params.set(name, 'redacted');
  }
  return `${originalUrl.slice(0, query)}?${params.toString()}`;
}

/**
 * Logs `{event: 'request', req: {id, method, url}, res: {statusCode}, responseTime}` when each
 * response finishes: at `debug` for successes (a page of 30 macros is 90 requests), at `info` for
 * failures. `req.log` is a child logger carrying the same `req`.
 */
export function requestLog(logger: AppLogger): RequestHandler {
  return pinoHttp({
    logger,
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 400 ? 'info' : 'debug'),
    // Our serializers read the raw objects themselves: cheaper than pino's standard ones, which
    // copy every header first.
    wrapSerializers: false,
    serializers: {
      // Only these fields: no headers, no query object, no client address.
      req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.originalUrl ?? req.url ?? ''),
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customSuccessObject: (_req, _res, fields: Record<string, unknown>) => ({ event: 'request', ...fields }),
    customErrorObject: (_req, _res, _error, fields: Record<string, unknown>) => ({
      event: 'request',
      ...fields,
    }),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request failed',
  });
}
