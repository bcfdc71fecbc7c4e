// The JWT precheck alone: it refuses (401, through the error handler) what is not a JWT and what is
// not yet valid, lets everything else through to ACE, and logs the reason, never the token.

import type { Request, Response } from 'express';
import { connectJwtPrecheck } from '../../src/ace/connect-jwt-precheck';
import { captureLogger } from '../../../test/support/capture-logger';

const NOW = 1_800_000_000_000;
const seconds = NOW / 1000;
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }) =>
  `${segment(header)}.${segment(claims)}.c2lnbmF0dXJl`;

function run(
  req: Partial<Request>,
  contextTokensOnly = false,
): { passed: unknown[]; logger: ReturnType<typeof captureLogger> } {
  const logger = captureLogger();
  const passed: unknown[] = [];
  const check = connectJwtPrecheck({ logger, now: () => NOW, contextTokensOnly });
  check({ query: {}, headers: {}, body: {}, ...req } as Request, {} as Response, (arg?: unknown) => {
    passed.push(arg);
  });
  return { passed, logger };
}

test.each([
  ['no token', {}],
  ['a well-formed token', { query: { jwt: token({ iss: 'x', iat: seconds }) } }],
  ['nbf and iat within 60 s', { query: { jwt: token({ nbf: seconds + 60, iat: seconds + 60 }) } }],
  ['in the header', { headers: { authorization: `JWT ${token({ iat: seconds - 10 })}` } }],
])('%s goes on to ACE', (_name, req) => {
  expect(run(req as Partial<Request>).passed).toEqual([undefined]);
});

test.each([
  ['two segments', { query: { jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0' } }, 'malformed'],
  ['a non-JSON header', { query: { jwt: 'abc.def.ghi' } }, 'malformed'],
  ['an array header', { query: { jwt: `${segment([1])}.${segment({})}.x` } }, 'malformed'],
  ['no alg', { query: { jwt: token({}, { typ: 'JWT' }) } }, 'malformed'],
  ['a repeated parameter', { query: { jwt: ['a', 'b'] } }, 'malformed'],
  ['a string iat', { body: { jwt: token({ iat: 'now' }) } }, 'malformed'],
  ['nbf 61 s ahead', { query: { jwt: token({ nbf: seconds + 61 }) } }, 'not_yet_valid'],
  [
    'iat a year ahead',
    { headers: { authorization: `JWT ${token({ iat: seconds + 365 * 86_400 })}` } },
    'not_yet_valid',
  ],
])('%s is refused: 401, the reason logged, not the token', (_name, req, reason) => {
  const { passed, logger } = run(req as Partial<Request>);
  expect(passed).toEqual([{ code: 401, message: `Connect JWT ${reason}` }]);
  expect(logger.events('jwt_refused').map((e) => e.obj)).toEqual([{ event: 'jwt_refused', reason }]);
});

test('contextTokensOnly: a context token goes on; a token bound to a URL is refused', () => {
  expect(run({ query: { jwt: token({ qsh: 'context-qsh' }) } }, true).passed).toEqual([undefined]);
  for (const claims of [{ qsh: 'a'.repeat(64) }, {}]) {
    expect(run({ query: { jwt: token(claims) } }, true).passed).toEqual([
      { code: 401, message: 'Connect JWT not_a_context_token' },
    ]);
  }
});
