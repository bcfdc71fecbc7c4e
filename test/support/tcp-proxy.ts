// A TCP proxy in front of a server (a test's own redis-server), whose connections a test can cut
// and let back: a network blip. Unlike SIGSTOP (a hang) or a restart (the data on disk), a cut
// resets every open connection and refuses new ones while the server itself runs on untouched.

import { type Server, type Socket, createServer, connect } from 'node:net';
import { freePort } from '../../support/redis-server';

export interface TcpProxy {
  port: number;
  /** `redis://` URL of the proxy, for a proxied redis-server. */
  url: string;
  /** Resets every connection through the proxy and refuses new ones until {@link restore}. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Connections through the proxy opened since it started. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port that forwards to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let connections = 0;
  let server: Server | undefined;

  const listen = async (): Promise<void> => {
    const listening = createServer((client) => {
      connections += 1;
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // A reset is what a cut is for: the other side is destroyed with it.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    server = listening;
  };
  const cut = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise((resolve) => closing.close(resolve));
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };

  await listen();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut,
    restore: listen,
    get connections() {
      return connections;
    },
    close: cut,
  };
}
