// aceConsentOptions: a Connect app's resolveUser, authenticate and tenantSiteUrl for the consent
// router, from an ACE add-on object (no ACE loaded by the package), and the session-token eraser.

import type { Request, RequestHandler, Response } from 'express';
import { aceConsentOptions } from '../../src/ace/ace-consent-options';
import { aceUserResolver } from '../../src/ace/ace-user-resolver';
import { forgetAceSessionToken } from '../../src/ace/forget-ace-session-token';
import { captureLogger } from '../../../test/support/capture-logger';

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${segment({ alg: 'HS256' })}.${segment(claims)}.c2ln`;

function fakeAddon(installations: Record<string, unknown>) {
  const checked: string[] = [];
  const addon = {
    checkValidToken: (): RequestHandler => (req, _res, next) => {
      checked.push(String(req.headers.authorization));
      (req as Request & { context?: unknown }).context = {
        clientKey: 'tenant-1',
        userAccountId: 'acc-1',
        token: 'session',
      };
      next();
    },
    settings: { get: async (_key: string, clientKey: string) => installations[clientKey] ?? null },
  };
  return { addon, checked };
}

/** Runs handlers in order as Express would; returns what the last `next` got, or 'passed'. */
function run(handlers: RequestHandler[], req: Request, res: Response): unknown {
  let outcome: unknown = 'passed';
  for (const handler of handlers) {
    let nextArg: unknown = 'not called';
    handler(req, res, (arg?: unknown) => {
      nextArg = arg;
    });
    if (nextArg !== undefined) {
      outcome = nextArg;
      break;
    }
  }
  return outcome;
}

describe('aceConsentOptions', () => {
  test('refuses what is not an ACE add-on', () => {
    expect(() => aceConsentOptions({} as never)).toThrow(TypeError);
    expect(() => aceConsentOptions({ checkValidToken: () => undefined } as never)).toThrow(
      /^aceConsentOptions: addon must be an atlassian-connect-express add-on$/,
    );
  });

  test("authenticate: context tokens only, then ACE's check, then the session token is dropped", () => {
    const { addon, checked } = fakeAddon({});
    const logger = captureLogger();
    const { authenticate, resolveUser } = aceConsentOptions(addon, { logger });
    expect(resolveUser).toBe(aceUserResolver);
    expect(authenticate).toHaveLength(3);
    const headers = new Map<string, string>([['x-acpt', 'session']]);
    const res = {
      locals: { token: 'session' },
      removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    } as unknown as Response;
    // A token signed for a URL (a macro's iframe URL) is refused before ACE sees it.
    const urlToken = {
      headers: { authorization: `JWT ${jwt({ qsh: 'a'.repeat(64) })}` },
      query: {},
    } as Request;
    expect(run(authenticate, urlToken, res)).toEqual({
      code: 401,
      message: 'Connect JWT not_a_context_token',
    });
    expect(checked).toEqual([]);
    expect(logger.events('jwt_refused').map((e) => e.obj)).toEqual([
      { event: 'jwt_refused', reason: 'not_a_context_token' },
    ]);
    const context = {
      headers: { authorization: `JWT ${jwt({ qsh: 'context-qsh' })}` },
      query: {},
    } as Request;
    expect(run(authenticate, context, res)).toBe('passed');
    expect(checked).toHaveLength(1);
    expect(resolveUser(context)).toEqual({ clientKey: 'tenant-1', accountId: 'acc-1' });
    expect((context as Request & { context: Record<string, unknown> }).context.token).toBeUndefined();
    expect(res.locals.token).toBeUndefined();
    expect(headers.has('x-acpt')).toBe(false);
  });

  test("tenantSiteUrl: the installation's baseUrl; null once uninstalled or unreadable", async () => {
    const { addon } = fakeAddon({
      'tenant-1': { baseUrl: 'https://x.atlassian.net/wiki' },
      'tenant-2': { baseUrl: 42 },
    });
    const { tenantSiteUrl } = aceConsentOptions(addon);
    expect(await tenantSiteUrl({ clientKey: 'tenant-1', accountId: 'a' })).toBe(
      'https://x.atlassian.net/wiki',
    );
    expect(await tenantSiteUrl({ clientKey: 'tenant-2', accountId: 'a' })).toBeNull();
    expect(await tenantSiteUrl({ clientKey: 'gone', accountId: 'a' })).toBeNull();
  });
});

test('forgetAceSessionToken drops the header, the local and the context token, then goes on', () => {
  const headers = new Map([['x-acpt', 'session']]);
  const res = {
    locals: { token: 'session', other: 1 },
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  } as unknown as Response;
  const req = { context: { token: 'session', clientKey: 'c' } } as unknown as Request;
  const next = jest.fn();
  forgetAceSessionToken(req, res, next);
  expect(next).toHaveBeenCalledWith();
  expect(headers.size).toBe(0);
  expect(res.locals).toEqual({ other: 1 });
  expect((req as unknown as { context: unknown }).context).toEqual({ clientKey: 'c' });
});
