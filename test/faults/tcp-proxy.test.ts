// The cuttable TCP proxy the Redis-blip probe and tests share (support/tcp-proxy.ts): a cut drops
// every open connection and refuses new ones; a restore serves again on the same port.

import { connect } from 'node:net';
import Redis from 'ioredis';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { type TcpProxy, startTcpProxy } from '../../support/tcp-proxy';

/** The error code of a fresh connection to `port`, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

let redis: RedisServer;
let proxy: TcpProxy;

beforeAll(async () => {
  redis = await startRedisServer();
  proxy = await startTcpProxy(redis.port);
});

afterAll(async () => {
  await proxy.close();
  await redis.close();
});

test('a cut closes the open connections and refuses new ones; a restore serves again on the same port', async () => {
  // No reconnects: the test watches the first connection end.
  const client = new Redis(proxy.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  expect(await client.set('jtr-proxy-test', '1', 'PX', 5_000)).toBe('OK');
  expect(proxy.accepted).toBe(1);

  const ended = new Promise((resolve) => client.once('end', resolve));
  await proxy.cutOff();
  await ended; // the open connection was closed under the client
  expect(proxy.cut).toBe(true);
  expect(await tryConnect(proxy.port)).toBe('ECONNREFUSED');

  await proxy.restore();
  expect(proxy.cut).toBe(false);
  const again = new Redis(proxy.url, { maxRetriesPerRequest: 0 });
  try {
    expect(await again.get('jtr-proxy-test')).toBe('1');
  } finally {
    again.disconnect();
  }
  expect(proxy.accepted).toBe(2);
});
