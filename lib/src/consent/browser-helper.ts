// The browser helper (lib/browser/consent.js), served by the router at GET <mount>/consent.js: a
// plain script, no build step for vendors, read once when the router is made.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** lib/browser/consent.js, from lib/src/consent (the sources) as from lib/dist/consent (the build). */
const SCRIPT_PATH = join(__dirname, '..', '..', 'browser', 'consent.js');

/** Serves the helper; revalidated on each use (ETag), so a new version is picked up at once. */
export function browserHelper(): (req: IncomingMessage, res: ServerResponse) => void {
  const script = readFileSync(SCRIPT_PATH);
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
