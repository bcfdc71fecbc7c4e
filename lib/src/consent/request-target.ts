// What the router reads of a request's target, parsed by itself: express 4 and 5 differ in their
// query parsers (`req.query` is qs in 4, a getter over a simple parser in 5).

import type { IncomingMessage } from 'node:http';

/** The path under the router's mount and the query, e.g. `/callback` and `state=…&code=…`. */
export interface RequestTarget {
  path: string;
  query: URLSearchParams;
}

/** Express strips the mount path from `req.url`; the query is kept as sent. */
export function requestTarget(req: IncomingMessage): RequestTarget {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  return {
    path: path === '' ? '/' : path,
    query: new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)),
  };
}

/**
 * Whether a parameter is present in any form: once, repeated, or in bracket notation
 * (`error[k]=…`, which qs would have made an object), so no spelling of `error` passes unseen.
 */
export function hasParam(query: URLSearchParams, name: string): boolean {
  for (const key of query.keys()) if (key === name || key.startsWith(`${name}[`)) return true;
  return false;
}

/** The client's address as Express sees it (`trust proxy` applies), for limits of requests without a user. */
export function clientAddress(req: IncomingMessage): string {
  const ip = (req as IncomingMessage & { ip?: unknown }).ip;
  return typeof ip === 'string' && ip !== '' ? ip : (req.socket?.remoteAddress ?? 'unknown');
}
