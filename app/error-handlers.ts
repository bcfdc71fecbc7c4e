// The last two handlers: a plain 404, and an error handler that logs the error's name and code
// (never its request, which may carry a JWT) and answers without echoing anything.

import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { JiraTokenError, type Logger } from 'jira-token-rotation';
import { redactUrl } from './request-log';

/** 404 for anything no route answered. */
export const notFound: RequestHandler = (_req, res) => {
  res.status(404).type('text').send('Not Found');
};

/**
 * ACE's authentication failures, handed over as `{code, message}` (`expressErrorHandling` in
 * config.json). ACE has already logged them.
 */
function isAceFailure(err: unknown): err is { code: number; message: string } {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return !(err instanceof Error) && typeof code === 'number' && typeof message === 'string';
}

/**
 * Maps an error to a status: any refused Connect JWT is a 401 (ACE says 400 for some forgeries),
 * its store failing a 503; token errors carry theirs; client errors (body parsing) stay 4xx.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    if (isAceFailure(err)) {
      if (err.code >= 500) res.setHeader('Retry-After', '5');
      res
        .status(err.code >= 500 ? 503 : 401)
        .type('text')
        .send(err.code >= 500 ? 'The app could not answer; try again later' : 'Unauthorized');
      return;
    }
    const error = (err ?? {}) as { name?: unknown; code?: unknown; status?: unknown };
    const clientError = typeof error.status === 'number' && error.status >= 400 && error.status < 500;
    const status = err instanceof JiraTokenError ? err.status : clientError ? (error.status as number) : 500;
    if (status >= 500) {
      logger.error(
        {
          event: 'request_failed',
          url: redactUrl(req.originalUrl),
          err: String(error.name),
          errorCode: error.code,
        },
        'Request failed',
      );
    }
    if (err instanceof JiraTokenError && err.retryAfterSeconds)
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
    res
      .status(status)
      .type('text')
      .send(
        status >= 500 ? 'The app could not answer; try again later' : (STATUS_CODES[status] ?? 'Bad Request'),
      );
  };
}
