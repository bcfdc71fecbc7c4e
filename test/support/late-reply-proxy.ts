// A TCP proxy in front of one Redis node that, once armed, answers a sharded subscriber's
// half-close with one more reply: the SUNSUBSCRIBE push a failed-over primary sends when it wakes
// as a replica, arriving after the client has ended its side. That is the byte order that crashed
// a process in a Cluster failover; here it comes every time, not once in a few runs.

import { type Server, type Socket, connect, createServer } from 'node:net';
import { freePort } from '../../support/redis-server';

export interface LateReplyProxy {
  /** Where clients connect (127.0.0.1). */
  port: number;
  /** From now on, a subscriber connection that ends its side gets one SUNSUBSCRIBE push first. */
  arm(): void;
  /** Late pushes written to a subscriber after it had ended its side. */
  readonly lateRepliesSent: number;
  /** Connections that have carried an SSUBSCRIBE so far. */
  readonly subscribers: number;
  close(): Promise<void>;
}

const SSUBSCRIBE = /ssubscribe\r\n\$\d+\r\n([^\r]+)\r\n/i;

/** RESP2 `["sunsubscribe", channel, 0]`: what Redis pushes when a node stops serving a shard channel. */
function sunsubscribePush(channel: string): string {
  return `*3\r\n$12\r\nsunsubscribe\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n:0\r\n`;
}

/** Starts a proxy on a free port that forwards every connection to `127.0.0.1:targetPort`. */
export async function startLateReplyProxy(targetPort: number): Promise<LateReplyProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let armed = false;
  let lateRepliesSent = 0;
  let subscribers = 0;

  // allowHalfOpen: the client's FIN must not end our side before the late reply is written.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    let channel: string | undefined;
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      const subscribed = SSUBSCRIBE.exec(chunk.toString('latin1'));
      if (subscribed && channel === undefined) {
        channel = subscribed[1];
        subscribers += 1;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client, { end: false });
    client.on('end', () => {
      if (armed && channel !== undefined && !client.destroyed) {
        // The write may fail if the client has already destroyed its socket; then nothing is read.
        client.write(sunsubscribePush(channel));
        lateRepliesSent += 1;
      }
      client.end();
      upstream.destroy();
    });
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    arm: () => {
      armed = true;
    },
    get lateRepliesSent() {
      return lateRepliesSent;
    },
    get subscribers() {
      return subscribers;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
