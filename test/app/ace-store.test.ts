// Our ACE store adapters (memory and Redis): ACE's contract, and no secret in what ACE logs.

import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { AceStore } from '../../app/ace-store';
import { MemoryAceStore } from '../../app/memory-ace-store';
import { RedisAceStore } from '../../app/redis-ace-store';
import { REDIS_URL, deleteKeys } from './helpers';

const keyPrefix = `jtr-app-test:${randomUUID()}:`;
const info = (clientKey: string) => ({
  clientKey,
  baseUrl: `https://${clientKey}.atlassian.net/wiki`,
  sharedSecret: 's3cr3t',
});

describe.each([
  ['memory', () => new MemoryAceStore()],
  ['redis', () => new RedisAceStore({ redis: new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }), keyPrefix })],
] as const)('%s ACE store', (_name, make) => {
  let store: AceStore;
  beforeEach(() => {
    store = make();
  });
  afterEach(async () => {
    await store.close();
  });
  afterAll(async () => {
    await deleteKeys(keyPrefix);
  });

  test('saveInstallation keeps everything but returns no shared secret', async () => {
    const returned = await store.saveInstallation(info('alpha'), 'alpha');
    expect(returned).toEqual({ clientKey: 'alpha', baseUrl: 'https://alpha.atlassian.net/wiki' });
    expect(await store.get('clientInfo', 'alpha')).toEqual(info('alpha'));
  });

  test('get, set, del per tenant; objects as JSON, strings as they are', async () => {
    expect(await store.get('clientInfo', 'nobody')).toBeNull();
    expect(await store.set('note', 'plain text', 'alpha')).toBe('plain text');
    expect(await store.set('obj', { a: 1 }, 'alpha')).toEqual({ a: 1 });
    expect(await store.get('obj', 'beta')).toBeNull();
    await store.del('obj', 'alpha');
    expect(await store.get('obj', 'alpha')).toBeNull();
    expect(await store.get('note', 'alpha')).toBe('plain text');
  });

  test('getAllClientInfos lists the installations', async () => {
    await store.saveInstallation(info('alpha'), 'alpha');
    await store.saveInstallation(info('beta'), 'beta');
    const all = (await store.getAllClientInfos()) as { clientKey: string }[];
    expect(all.map((i) => i.clientKey).sort()).toEqual(['alpha', 'beta']);
  });
});
