// The consent router's nonce cookie, as a test reads it off a response to send it back.

import type request from 'supertest';

/** The `name=value` of the nonce cookie a response sets (not the one it clears). */
export function nonceCookie(res: request.Response): string {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const set = cookies
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('jtr-consent=') && !c.endsWith('='));
  if (!set) throw new Error('The response sets no nonce cookie');
  return set;
}
