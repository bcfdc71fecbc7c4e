// How the Cluster notice subscriber's connections are opened and, above all, dropped.
//
// ioredis (5.11 and 6.1 alike) stops a sharded subscriber whose node left the slot map (a
// failover) by ending its socket and then removing every listener of that connection. The socket
// still reads until the node closes its side, so a reply the node sends first, such as the
// SUNSUBSCRIBE a failed-over primary pushes when it wakes as a replica, is parsed with no command
// waiting for it. ioredis then emits "Command queue state error" as an 'error' with no listener:
// an uncaught exception that ends the vendor's process. A subscriber has nothing in flight worth
// reading once it is told to disconnect, so this connector destroys the socket at once instead.

import { type Socket, connect as netConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { AbstractConnector, type RedisOptions } from 'ioredis';

type ConnectionOptions = Pick<RedisOptions, 'host' | 'port' | 'path' | 'family' | 'tls'>;

/** ioredis's standalone connector, except that `disconnect` destroys the socket at once. */
export class SubscriberConnector extends AbstractConnector {
  private readonly options: ConnectionOptions;

  /** @param options the connection's ioredis options (ioredis's `ConnectorConstructor` takes `unknown`). */
  constructor(options: unknown) {
    const given = options as ConnectionOptions & { disconnectTimeout?: number };
    super(given.disconnectTimeout ?? 2_000);
    this.options = given;
  }

  connect(): Promise<Socket | TLSSocket> {
    const { host, port, path, family, tls } = this.options;
    this.connecting = true;
    // As ioredis's own connector: the socket is created on the next tick, after the caller has
    // had the chance to disconnect, and its first error is kept for ioredis to report.
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        try {
          // ioredis's defaults when a node's options leave them out.
          const target = path
            ? { path }
            : { host: host ?? 'localhost', port: port ?? 6379, ...(family !== undefined ? { family } : {}) };
          this.stream = tls ? tlsConnect({ ...target, ...tls }) : netConnect(target);
        } catch (error) {
          reject(error as Error);
          return;
        }
        this.stream.once('error', (error: Error) => {
          this.firstError = error;
        });
        resolve(this.stream);
      });
    });
  }

  override disconnect(): void {
    this.connecting = false;
    // No reply is awaited once ioredis lets go of a subscriber: drop what the node may still send.
    this.stream?.destroy();
  }
}
