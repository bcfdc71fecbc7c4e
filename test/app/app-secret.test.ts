// The app's secret: given, else derived from the first encryption key (shared by every process),
// else random (one process); the consent router derives its purpose keys from it.

import { randomBytes } from 'node:crypto';
import { appSecret } from '../../app/app-secret';

describe('appSecret', () => {
  test('APP_SECRET, else derived from the first encryption key (the same in every process), else random', () => {
    const given = randomBytes(32).toString('base64');
    expect(appSecret({ appSecret: given })).toEqual(Buffer.from(given, 'base64'));
    const encryptionKey = [randomBytes(32).toString('base64')];
    const derived = appSecret({ encryptionKey });
    expect(derived).toHaveLength(32);
    expect(appSecret({ encryptionKey })).toEqual(derived);
    expect(derived).not.toEqual(Buffer.from(encryptionKey[0], 'base64'));
    expect(appSecret({})).not.toEqual(appSecret({}));
  });
});
