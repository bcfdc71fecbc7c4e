// The install-key CDN and signInstallJwt: a signed install verifies with the served public key.

import { createPublicKey, createVerify } from 'node:crypto';
import { decodeAsymmetric, AsymmetricAlgorithm } from 'atlassian-jwt';
import express from 'express';
import request from 'supertest';
import { createSimulator, signInstallJwt } from '../../sim';

function parts(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signed: string;
  signature: Buffer;
} {
  const [h, p, s] = jwt.split('.');
  const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  return {
    header: decode(h),
    payload: decode(p),
    signed: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

describe('install keys', () => {
  it('serves the PEM public key of its kid as text, and 404 for any other kid', async () => {
    const sim = createSimulator();
    const { kid, publicKeyPem } = sim.installKeys;
    const res = await request(sim.app).get(`/connect-keys/${kid}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe(publicKeyPem);
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    await request(sim.app).get('/connect-keys/someone-else').expect(404);
  });

  it('is reachable under a prefix, as CONNECT_KEYS_CDN_URL=<base>/sim/connect-keys', async () => {
    const sim = createSimulator();
    const host = express().use('/sim', sim.app);
    const res = await request(host).get(`/sim/connect-keys/${sim.installKeys.kid}`).expect(200);
    expect(res.text).toBe(sim.installKeys.publicKeyPem);
  });

  it('keeps one key pair per simulator and a different one per simulator', () => {
    const a = createSimulator();
    const b = createSimulator();
    expect(a.installKeys).toBe(a.installKeys);
    expect(a.installKeys.kid).not.toBe(b.installKeys.kid);
    expect(a.installKeys.publicKeyPem).not.toBe(b.installKeys.publicKeyPem);
  });
});

describe('signInstallJwt', () => {
  it('signs RS256 with the kid, verifiable with the served public key via node:crypto', async () => {
    const sim = createSimulator();
    const jwt = signInstallJwt(sim, {
      iss: 'client-key-1',
      aud: 'https://app.example.com',
      qsh: 'abc',
      iat: 1000,
      exp: 1180,
    });
    const { header, payload, signed, signature } = parts(jwt);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: sim.installKeys.kid });
    expect(payload).toEqual({
      iss: 'client-key-1',
      aud: ['https://app.example.com'],
      qsh: 'abc',
      iat: 1000,
      exp: 1180,
    });
    const served = (
      await request(sim.app)
        .get(`/connect-keys/${header.kid as string}`)
        .expect(200)
    ).text;
    expect(createVerify('RSA-SHA256').update(signed).verify(served, signature)).toBe(true);
    expect(createVerify('RSA-SHA256').update(`${signed}x`).verify(served, signature)).toBe(false);
  });

  it('defaults iat to real now and exp to three minutes later, and keeps sub', () => {
    const sim = createSimulator();
    const before = Math.floor(Date.now() / 1000);
    const { payload } = parts(
      signInstallJwt(sim, { iss: 'k', aud: ['https://a.example'], qsh: 'q', sub: 'acc-1' }),
    );
    const after = Math.floor(Date.now() / 1000);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(after);
    expect(payload.exp).toBe((payload.iat as number) + 180);
    expect(payload.sub).toBe('acc-1');
    expect(payload.aud).toEqual(['https://a.example']);
  });

  it('verifies with atlassian-jwt, the decoder ACE uses, and fails with another key', () => {
    const sim = createSimulator();
    const other = createSimulator();
    const jwt = signInstallJwt(sim, { iss: 'k', aud: 'https://app.example.com', qsh: 'q' });
    const claims = decodeAsymmetric(jwt, sim.installKeys.publicKeyPem, AsymmetricAlgorithm.RS256);
    expect(claims.iss).toBe('k');
    expect(() => decodeAsymmetric(jwt, other.installKeys.publicKeyPem, AsymmetricAlgorithm.RS256)).toThrow();
  });
});
