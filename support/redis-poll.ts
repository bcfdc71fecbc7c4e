// Short connections to one throwaway Redis node, and waiting on one until it says what a test
// needs (the cluster formed, replicas synced, a sentinel aware of them).

import Redis from 'ioredis';

/** Runs `use` on a connection of its own to the node on `port`, then drops the connection. */
export async function withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectTimeout: 1_000,
  });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/**
 * Asks the node on `port` until `check` is true, backing off from 10 to 200 ms between tries.
 * @throws Error(`failure`) after 20 s.
 */
export async function untilNode(
  port: number,
  check: (client: Redis) => Promise<boolean>,
  failure: string,
): Promise<void> {
  await withNode(port, async (client) => {
    const giveUpAt = Date.now() + 20_000;
    for (let delay = 10; !(await check(client)); delay = Math.min(delay * 2, 200)) {
      if (Date.now() > giveUpAt) throw new Error(failure);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  });
}
