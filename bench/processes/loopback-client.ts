// The load generator inside each app process: plain node:http over keep-alive sockets opened
// beforehand, so a burst measures the app, not TCP handshakes.

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Timed {
  status: number;
  ms: number;
}

export class LoopbackClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1_000 });

  constructor(private readonly port: number) {}

  /** GET `path`; resolves with the status and the time to the last byte (status 0: no answer). */
  get(path: string, headers: Record<string, string> = {}): Promise<Timed> {
    const start = performance.now();
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, path, headers, agent: this.agent, timeout: 60_000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
          res.on('error', () => resolve({ status: 0, ms: performance.now() - start }));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve({ status: 0, ms: performance.now() - start }));
      req.end();
    });
  }

  /** Opens (at least) `count` sockets by sending `count` concurrent requests to `path`. */
  async open(count: number, path: string): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.get(path)));
  }

  close(): void {
    this.agent.destroy();
  }
}
