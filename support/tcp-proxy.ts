// A TCP proxy in front of a server (a Redis) that can be cut and restored: a network blip as the
// clients see it. Cutting closes every open connection and stops listening, so new connections
// are refused until the proxy is restored on the same port.

import { type Server, type Socket, connect, createServer } from 'node:net';
import { freePort } from './redis-server';

export interface TcpProxy {
  /** Where clients connect (127.0.0.1). */
  port: number;
  /** `redis://127.0.0.1:<port>`, for a Redis behind the proxy. */
  url: string;
  /** Whether the proxy is cut now. */
  readonly cut: boolean;
  /** Connections accepted so far (each reconnect is one more). */
  readonly accepted: number;
  /** Closes every connection and stops listening: connecting is refused until {@link restore}. */
  cutOff(): Promise<void>;
  /** Listens again on the same port; resolves once it does. */
  restore(): Promise<void>;
  /** Cuts for good. */
  close(): Promise<void>;
}

/** Starts a proxy on a free port that forwards every connection to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  // Below the ephemeral range (see freePort): nobody else takes the port while the proxy is cut.
  const port = await freePort();
  const open = new Set<Socket>();
  let accepted = 0;
  let server: Server | undefined;

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      accepted += 1;
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
        // A reset on either side ends both; the error itself is the blip, not a failure here.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
  };
  const cutOff = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of open) socket.destroy();
    await closed;
  };

  await listen();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get cut() {
      return server === undefined;
    },
    get accepted() {
      return accepted;
    },
    cutOff,
    restore: async () => {
      if (!server) await listen();
    },
    close: cutOff,
  };
}
