// The install-key pair of the simulated Connect CDN, and RS256 install JWTs signed with it (node:crypto only).

import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { InstallKeys } from './types';

/** A fresh 2048-bit RSA pair under a random key id. */
export function generateInstallKeys(kid: string = randomUUID()): InstallKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { kid, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** The claims of a Connect install (or uninstall) JWT. */
export interface InstallJwtClaims {
  /** The tenant's clientKey. */
  iss: string;
  /** The app's baseUrl. Always encoded as an array: ACE reads `aud[0]` and does not normalize a string. */
  aud: string | string[];
  /** The query string hash of the lifecycle request. */
  qsh: string;
  /** Seconds since the epoch; default now, in real time, because ACE checks `exp` against real time. */
  iat?: number;
  /** Default `iat` + 180 seconds. */
  exp?: number;
  /** The installing user's accountId, if any. */
  sub?: string;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** An RS256 JWT as Atlassian signs installs: header `{alg: 'RS256', typ: 'JWT', kid}`. */
export function signInstallJwt(sim: { readonly installKeys: InstallKeys }, claims: InstallJwtClaims): string {
  const keys = sim.installKeys;
  const iat = claims.iat ?? Math.floor(Date.now() / 1000);
  const payload = {
    ...claims,
    aud: Array.isArray(claims.aud) ? claims.aud : [claims.aud],
    iat,
    exp: claims.exp ?? iat + 180,
  };
  const signingInput = `${b64url({ alg: 'RS256', typ: 'JWT', kid: keys.kid })}.${b64url(payload)}`;
  const signature = createSign('RSA-SHA256')
    .update(signingInput)
    .sign(keys.privateKeyPem)
    .toString('base64url');
  return `${signingInput}.${signature}`;
}
