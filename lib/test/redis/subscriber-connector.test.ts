// SubscriberConnector, the Cluster notice subscriber's connector: it opens the connections ioredis
// asks for (plain TCP and TLS, as ioredis's own connector does), and drops a socket at once when
// ioredis disconnects it, where ioredis's own connector half-closes it and reads on.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { SubscriberConnector } from '../../src/redis/subscriber-connector';
import { type RedisServer, freePort, startRedisServer } from '../../../support/redis-server';

let dir: string;
let server: RedisServer;
let tlsPort: number;
let ca: Buffer;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made here so no key is ever committed.
  dir = mkdtempSync(join(tmpdir(), 'jtr-tls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert);
  tlsPort = await freePort();
  server = await startRedisServer({
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-auth-clients',
      'no',
    ],
  });
}, 30_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

function client(options: RedisOptions): Redis {
  const redis = new Redis({
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    ...options,
  });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

/** The socket under an ioredis client (`stream` is public on Redis, untyped here). */
const socketOf = (redis: Redis): { destroyed: boolean; readableEnded: boolean } =>
  (redis as unknown as { stream: { destroyed: boolean; readableEnded: boolean } }).stream;

test.each([
  ['plain TCP', (): RedisOptions => ({ port: server.port })],
  ['TLS', (): RedisOptions => ({ port: tlsPort, tls: { ca, servername: '127.0.0.1' } })],
])('connects over %s, and a disconnect destroys the socket at once', async (_kind, target) => {
  const redis = client({ ...target(), Connector: SubscriberConnector });
  expect(await redis.ping()).toBe('PONG');
  const socket = socketOf(redis);
  redis.disconnect();
  expect(socket.destroyed).toBe(true);
});

test("ioredis's own connector only half-closes: the socket still reads after a disconnect", async () => {
  const redis = client({ port: server.port });
  expect(await redis.ping()).toBe('PONG');
  const socket = socketOf(redis);
  redis.disconnect();
  expect(socket.destroyed).toBe(false);
  expect(socket.readableEnded).toBe(false);
});

test('a disconnect before the socket exists ends the connection attempt', async () => {
  const redis = client({ port: server.port, lazyConnect: true, Connector: SubscriberConnector });
  const connecting = redis.connect();
  redis.disconnect();
  await expect(connecting).rejects.toThrow('Connection is closed.');
});
