// Response headers, per kind of page. Every page is no-referrer (a macro's own URL carries its
// Connect JWT). The consent popup's pages are the package's router's, which sets their headers.

import type { Request, RequestHandler } from 'express';

/** The origins the pages may deal with. */
export interface SecurityPolicy {
  /** Send HSTS (the app is served over https). */
  hsts: boolean;
  /** Who may frame this macro request: its tenant's Confluence (and the sandbox's host page). */
  frameAncestors: (req: Request) => string[];
  /** Where the Connect host script (all.js, or the sandbox's stand-in) comes from. */
  hostScriptOrigin: string;
  /**
   * The authorize endpoint's origin: the macro posts its launch form to /jira/connect, which redirects
   * there, and browsers check `form-action` on that redirect too.
   */
  authorizeOrigin: string;
  /** The app's own origin, which the sandbox host page frames. */
  appOrigin: string;
}

/** The header middlewares of each kind of page. */
export interface SecurityHeaders {
  /** Every response. */
  base: RequestHandler;
  /** A macro page, framed by its tenant's Confluence only. Mount it after ACE's authentication. */
  macroPage: RequestHandler;
  /** JSON answers that carry user state: never cached. */
  noStore: RequestHandler;
  /** The sandbox's stand-in Confluence page, which frames the app's macros. */
  sandboxPage: RequestHandler;
}

const csp = (directives: Record<string, string[]>): string =>
  Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');

/** Builds the middlewares once, at start-up. */
export function securityHeaders(policy: SecurityPolicy): SecurityHeaders {
  const self = ["'self'"];
  const macroCsp = csp({
    'default-src': ["'none'"],
    'script-src': unique([...self, policy.hostScriptOrigin]),
    'style-src': self,
    'img-src': [...self, 'data:'],
    'connect-src': self,
    'form-action': unique([...self, policy.authorizeOrigin]),
    'base-uri': ["'none'"],
  });
  const sandboxCsp = csp({
    'default-src': ["'none'"],
    'script-src': self,
    'style-src': self,
    'connect-src': self,
    'frame-src': [policy.appOrigin],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'none'"],
  });
  const headers =
    (values: Record<string, string>): RequestHandler =>
    (_req, res, next) => {
      res.set(values);
      next();
    };
  return {
    base: headers({
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      ...(policy.hsts ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
    }),
    // No X-Frame-Options: it cannot name an origin; frame-ancestors can.
    macroPage: (req, res, next) => {
      const ancestors = policy.frameAncestors(req);
      res.set({
        'Cache-Control': 'no-store',
        'Content-Security-Policy': `${macroCsp}; frame-ancestors ${ancestors.length > 0 ? ancestors.join(' ') : "'none'"}`,
      });
      next();
    },
    noStore: headers({ 'Cache-Control': 'no-store' }),
    sandboxPage: headers({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': sandboxCsp,
      'X-Frame-Options': 'DENY',
    }),
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
