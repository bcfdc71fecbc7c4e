// A Cluster failover once crashed an app process: ioredis stops the sharded subscriber of a node
// that left the slot map by ending its socket and removing its listeners, and the node's last
// reply (the SUNSUBSCRIBE a woken ex-primary pushes) then surfaced as an 'error' nobody listened
// to. Here every node sits behind a proxy that sends that reply after the subscriber's half-close,
// every time, and a vendor-like process (late-reply-child) closes its notice channel: it must end
// by itself with code 0, not die of an uncaught "Command queue state error".

import { fork } from 'node:child_process';
import type { LateReplyCommand, LateReplyMessage } from '../support/late-reply-child';
import { type LateReplyProxy, startLateReplyProxy } from '../support/late-reply-proxy';
import { testChild } from '../support/test-children';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster';

let cluster: RedisCluster;
let proxies: LateReplyProxy[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  proxies = await Promise.all(cluster.startupNodes.map((node) => startLateReplyProxy(node.port)));
}, 60_000);
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await cluster.close();
});

test('a reply that reaches a stopped sharded subscriber is dropped, and the process ends cleanly', async () => {
  // Every node address the cluster announces leads to its proxy.
  const natMap = Object.fromEntries(
    cluster.startupNodes.map((node, i) => [
      `${node.host}:${node.port}`,
      { host: '127.0.0.1', port: proxies[i]!.port },
    ]),
  );
  const startupNodes = proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port }));
  const child = fork(testChild('late-reply-child'), [], {
    env: { ...process.env, LATE_REPLY_CLUSTER: JSON.stringify({ startupNodes, natMap }) },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message: LateReplyMessage) =>
        message.type === 'following' ? resolve() : reject(new Error(JSON.stringify(message))),
      );
      void exited.then(({ code }) => reject(new Error(`child exited (${code}) before following: ${stderr}`)));
    });
    // The tenant's channel is in one slot: exactly one node's proxy carries the subscription.
    expect(proxies.reduce((sum, proxy) => sum + proxy.subscribers, 0)).toBe(1);

    for (const proxy of proxies) proxy.arm();
    child.send({ type: 'close' } satisfies LateReplyCommand);

    // The child holds nothing open once its channel is closed: it ends by itself, having said
    // nothing on stderr (an uncaught "Command queue state error" would be there, with code 1).
    expect({ exit: await exited, stderr }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });
    // The late reply was sent after the subscriber's half-close: the case was exercised.
    expect(proxies.reduce((sum, proxy) => sum + proxy.lateRepliesSent, 0)).toBe(1);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}, 60_000);
