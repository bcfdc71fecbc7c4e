// How the router answers, on Node's own response API: express 4 and express 5 alike, and no
// dependency on whatever the app mounted before it.

import type { ServerResponse } from 'node:http';

/** Adds a `Set-Cookie` header, keeping the ones already set (a cleared nonce, then a new one). */
export function appendSetCookie(res: ServerResponse, cookie: string): void {
  const current = res.getHeader('Set-Cookie');
  const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Answers JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** Answers plain text. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', text);
}

/** Answers an HTML page. */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, 'text/html; charset=utf-8', html);
}

/** Answers with no body: 204, or a redirect whose URL must not be repeated in a body (it holds the state). */
export function sendEmpty(res: ServerResponse, status: number, location?: string): void {
  if (location !== undefined) res.setHeader('Location', location);
  res.statusCode = status;
  res.end();
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The headers of a JSON answer that carries user state: never cached. */
export function setNoStore(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store');
}

/**
 * The headers of a popup page: never cached, never framed, never a Referer (a callback's URL
 * holds the code and state). No Cross-Origin-Opener-Policy on purpose: the popup must keep its
 * `opener` to tell the page that opened it how the consent ended.
 */
export function setFlowPageHeaders(res: ServerResponse, contentSecurityPolicy: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', contentSecurityPolicy);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}
