// Hostile Connect JWTs for the app's property tests: every way a token can be forged, stale, bound
// to another request, signed with the wrong key or algorithm, oversized or not a JWT at all, drawn
// by fast-check from the material a real attacker could have (their own tenant's secret, the
// public install key, a token seen in a URL).

import { createHmac, createSign, randomBytes } from 'node:crypto';
import fc from 'fast-check';

/** A JWT header or payload. */
type Claims = Record<string, unknown>;

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** How a token is signed. */
export type Signer =
  | { kind: 'hs256'; secret: string }
  | { kind: 'rs256'; privateKeyPem: string }
  | { kind: 'none' }
  | { kind: 'raw'; signature: string };

/** A JWT with exactly this header, payload and signature (no library checks what we forge). */
export function encodeJwt(header: Claims, payload: Claims, signer: Signer): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  switch (signer.kind) {
    case 'hs256':
      return `${input}.${createHmac('sha256', signer.secret).update(input).digest('base64url')}`;
    case 'rs256':
      return `${input}.${createSign('RSA-SHA256').update(input).sign(signer.privateKeyPem).toString('base64url')}`;
    case 'none':
      return `${input}.`;
    case 'raw':
      return `${input}.${signer.signature}`;
  }
}

/** The same token with its signature's first byte changed (a flipped base64url character may decode alike). */
export function tamperSignature(token: string): string {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[0] ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** The same signature over another payload. */
export function swapPayload(token: string, payload: Claims): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64url(payload)}.${signature}`;
}

/** What the generators forge from. */
export interface ForgeryMaterial {
  /** Valid claims of the attacked route (iss, sub, iat, exp, qsh, maybe aud). */
  claims: Claims;
  /** The key the route expects: the tenant's shared secret (HS256) or the install key (RS256). */
  expected: Signer & { kind: 'hs256' | 'rs256' };
  /** The install key's id (RS256 headers carry it). */
  kid: string;
  /** What the attacker holds: their own tenant's secret, the public install key (PEM). */
  attackerSecret: string;
  publicKeyPem: string;
  /** A private key of the attacker's (RS256 that no CDN vouches for). */
  attackerPrivateKeyPem: string;
}

/** One drawn forgery: its name (for failure messages) and the token. */
export interface Forgery {
  kind: string;
  token: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Printable ASCII: what a header or form can carry unchanged. */
const printable = fc.string({
  unit: fc.constantFrom(
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+/ {}":,'.split(''),
  ),
});
const anyText = fc.string({ unit: 'grapheme', maxLength: 64 });

/**
 * Every forgery of a token the route must refuse. `qshChecked`: the route binds tokens to their
 * request (a macro URL), so a wrong or missing `qsh` is a forgery too.
 */
export function forgedJwt(m: ForgeryMaterial, qshChecked: boolean): fc.Arbitrary<Forgery> {
  const header = (alg: string): Claims => ({ alg, typ: 'JWT', ...(alg === 'RS256' ? { kid: m.kid } : {}) });
  const expectedAlg = m.expected.kind === 'hs256' ? 'HS256' : 'RS256';
  const valid = (claims: Claims = m.claims) => encodeJwt(header(expectedAlg), claims, m.expected);
  const forgeries: fc.Arbitrary<Forgery>[] = [
    fc.constant(null).map(() => ({ kind: 'tampered signature', token: tamperSignature(valid()) })),
    fc
      .record({ field: fc.constantFrom('sub', 'iss', 'exp', 'context'), value: anyText })
      .map(({ field, value }) => ({
        kind: `payload changed (${field}), signature kept`,
        token: swapPayload(valid(), { ...m.claims, [field]: value }),
      })),
    fc.constantFrom('none', 'None', 'NONE', '').chain((alg) =>
      fc.constantFrom('', 'AAAA', tamperSignature(valid()).split('.')[2]).map((signature) => ({
        kind: `alg "${alg}"`,
        token: encodeJwt({ alg, typ: 'JWT' }, m.claims, { kind: 'raw', signature }),
      })),
    ),
    // Algorithm confusion, both ways: RS256 where HS256 is expected (signed with a private key),
    // HS256 where RS256 is expected (the public key or a shared secret used as the HMAC key).
    fc.constantFrom(
      ...(m.expected.kind === 'hs256'
        ? [
            {
              kind: 'RS256 for HS256',
              token: encodeJwt(header('RS256'), m.claims, {
                kind: 'rs256',
                privateKeyPem: m.attackerPrivateKeyPem,
              }),
            },
          ]
        : [
            {
              kind: 'HS256 keyed with the public key',
              token: encodeJwt(header('HS256'), m.claims, { kind: 'hs256', secret: m.publicKeyPem }),
            },
            {
              kind: 'HS256 keyed with a shared secret',
              token: encodeJwt(header('HS256'), m.claims, { kind: 'hs256', secret: m.attackerSecret }),
            },
            {
              kind: 'RS256 by another key, same kid',
              token: encodeJwt(header('RS256'), m.claims, {
                kind: 'rs256',
                privateKeyPem: m.attackerPrivateKeyPem,
              }),
            },
          ]),
    ),
    fc.constantFrom('HS384', 'HS512', 'ES256', 'PS256', 'RS512').map((alg) => ({
      kind: `alg ${alg}`,
      token: encodeJwt(
        { ...header(alg), alg },
        m.claims,
        m.expected.kind === 'hs256' ? { kind: 'hs256', secret: m.attackerSecret } : m.expected,
      ),
    })),
    fc.constant(null).map(() => ({
      kind: "another tenant's secret",
      token: encodeJwt(header('HS256'), m.claims, { kind: 'hs256', secret: m.attackerSecret }),
    })),
    fc.integer({ min: 0, max: 10 * 365 * 86_400 }).map((ago) => ({
      kind: 'expired',
      token: valid({ ...m.claims, iat: nowSeconds() - ago - 180, exp: nowSeconds() - ago }),
    })),
    fc.integer({ min: 120, max: 10 * 365 * 86_400 }).map((ahead) => ({
      kind: 'not yet valid (nbf, iat in the future)',
      token: valid({
        ...m.claims,
        nbf: nowSeconds() + ahead,
        iat: nowSeconds() + ahead,
        exp: nowSeconds() + ahead + 180,
      }),
    })),
    fc.string({ minLength: 1, maxLength: 64 }).map((iss) => ({
      kind: 'unknown iss',
      token: encodeJwt(
        header(expectedAlg),
        { ...m.claims, iss: `unknown-${iss}` },
        m.expected.kind === 'hs256' ? { kind: 'hs256', secret: m.attackerSecret } : m.expected,
      ),
    })),
    fc.constantFrom(...[1, 2, 3, 6].map((kb) => kb * 1024)).map((size) => ({
      kind: `padded to ${size} bytes, resigned with another secret`,
      token: encodeJwt(
        header(expectedAlg),
        { ...m.claims, pad: 'x'.repeat(size) },
        { kind: 'hs256', secret: m.attackerSecret },
      ),
    })),
    fc
      .oneof(printable, fc.string(), fc.base64String({ maxLength: 200 }))
      .map((text) => ({ kind: 'garbage', token: text })),
    fc
      .tuple(printable, printable, printable)
      .map(([a, b, c]) => ({ kind: 'three garbage segments', token: `${a}.${b}.${c}` })),
    fc.tuple(anyText, anyText).map(([h, p]) => ({
      kind: 'JSON-looking segments',
      token: `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
    })),
    fc
      .constantFrom('eyJ', 'eyJ.eyJ.', '..', '.', 'JWT', 'null', '[]', '{}', 'e30.e30.e30')
      .map((token) => ({ kind: 'degenerate', token })),
  ];
  if (m.expected.kind === 'rs256') {
    // The key id picks the URL the public key is fetched from: it must never reach further.
    forgeries.push(
      fc
        .oneof(
          fc.constantFrom<unknown>(
            '../../../etc/passwd',
            '..',
            'x?y=1#z',
            '%2e%2e%2f',
            '\n',
            'a\nb',
            'é',
            'a'.repeat(4000),
            '',
            {},
            123,
            null,
            ['x'],
          ),
          fc.string({ unit: 'grapheme', maxLength: 40 }),
        )
        .map((kid) => ({
          kind: 'hostile kid',
          token: encodeJwt({ alg: 'RS256', typ: 'JWT', kid }, m.claims, {
            kind: 'rs256',
            privateKeyPem: m.attackerPrivateKeyPem,
          }),
        })),
    );
  }
  if (m.expected.kind === 'hs256' && !qshChecked) {
    // A genuine token of the tenant, but bound to a request (a macro's iframe URL), not a context token.
    forgeries.push(
      fc
        .stringMatching(/^[0-9a-f]{64}$/)
        .map((qsh) => ({ kind: "a URL's token (qsh bound)", token: valid({ ...m.claims, qsh }) })),
    );
  }
  if (qshChecked) {
    forgeries.push(
      fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.constant('context-qsh'), anyText).map((qsh) => ({
        kind: `wrong qsh`,
        token: valid({ ...m.claims, qsh }),
      })),
      fc.constant(null).map(() => {
        const { qsh: _qsh, ...rest } = m.claims;
        return { kind: 'no qsh', token: valid(rest) };
      }),
    );
  }
  return fc.oneof(...forgeries);
}
