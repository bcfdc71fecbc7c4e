// The browser helper (lib/browser/consent.js), served by the router at GET <mount>/consent.js: a
// plain script, no build step for vendors, read once when the router is made.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';

/**
 * lib/browser/consent.js: the nearest `browser/consent.js` above this code, whether it runs from
 * lib/src/consent (the sources) or from the bundle in lib/dist.
 */
function scriptPath(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'browser', 'consent.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`browser/consent.js not found above ${__dirname}`);
  }
}

/** Serves the helper; revalidated on each use (ETag), so a new version is picked up at once. */
export function browserHelper(): (req: IncomingMessage, res: ServerResponse) => void {
  const script = readFileSync(scriptPath());
  const etag = `"${createHash('sha256').update(script).digest('base64url').slice(0, 27)}"`;
  return (req, res) => {
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', etag);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Length', script.length);
    res.end(script);
  };
}
