// One log line per request, with the values of secret-bearing query parameters blanked: a macro
// URL carries a Connect JWT, a callback URL an OAuth code and state (invariant 6).

import type { RequestHandler } from 'express';
import type { Logger } from '../lib';

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
 * Logs method, redacted URL, status and duration when each response finishes: at `debug` for
 * successes (a page of 30 macros is 90 requests), at `info` for failures.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      logger[res.statusCode >= 400 ? 'info' : 'debug'](
        {
          event: 'request',
          method: req.method,
          url: redactUrl(req.originalUrl),
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
    next();
  };
}
