// Express 4 does not catch rejected promises: this hands them to the error handler.

import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Wraps an async handler so that a rejection reaches `next(error)`. */
export function asyncRoute(
  handler: (req: Request, res: Response, next: NextFunction) => Promise<unknown>,
): RequestHandler {
  return (req, res, next) => {
    handler(req, res, next).catch(next);
  };
}
