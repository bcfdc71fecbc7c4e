// Runs the simulator on a loopback port and gives tests a fetch that records every token the
// manager receives (for the no-leak scan) and can hold or replace one token-endpoint exchange.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createSimulator } from '../../sim';
import type { Simulator, SimulatorOptions } from '../../sim';

export interface SimServer {
  sim: Simulator;
  baseUrl: string;
  tokenUrl: string;
  close(): Promise<void>;
}

export async function startSim(options: SimulatorOptions = {}): Promise<SimServer> {
  const sim = createSimulator(options);
  const server: Server = await new Promise((resolve) => {
    const s = sim.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    sim,
    baseUrl,
    tokenUrl: `${baseUrl}/oauth/token`,
    close: async () => {
      sim.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Decides one token-endpoint exchange: `send()` performs the real request. */
export type TokenInterceptor = (send: () => Promise<Response>) => Promise<Response>;

export interface FetchProbe {
  fetch: typeof fetch;
  /** Every access and refresh token seen in a token-endpoint answer, and any added by hand. */
  secrets: Set<string>;
  /** Token-endpoint requests made (sent or intercepted). */
  tokenRequests: number;
  /** Queues an interceptor for the next token-endpoint request. */
  interceptNext(interceptor: TokenInterceptor): void;
}

export function fetchProbe(base: typeof fetch = globalThis.fetch): FetchProbe {
  const queue: TokenInterceptor[] = [];
  const probe: FetchProbe = {
    secrets: new Set(),
    tokenRequests: 0,
    interceptNext: (interceptor) => queue.push(interceptor),
    fetch: async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith('/oauth/token')) return base(input, init);
      probe.tokenRequests += 1;
      const send = async (): Promise<Response> => {
        const response = await base(input, init);
        const text = await response.text();
        try {
          const body = JSON.parse(text) as Record<string, unknown>;
          for (const field of ['access_token', 'refresh_token']) {
            if (typeof body[field] === 'string') probe.secrets.add(body[field] as string);
          }
        } catch {
          // Not JSON: nothing to record.
        }
        return new Response(text, { status: response.status, headers: response.headers });
      };
      const interceptor = queue.shift();
      return interceptor ? interceptor(send) : send();
    },
  };
  return probe;
}

/** A promise with its resolver, for holding an exchange until the test says so. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Lets the next token-endpoint exchange reach the server (which rotates), then holds its answer
 * until `release()`: a late holder. With `answer`, the request never reaches the server and the
 * held answer is that response instead.
 */
export function holdNextAnswer(
  probe: FetchProbe,
  answer?: () => Response,
): { arrived: Promise<void>; release(): void } {
  const arrived = gate();
  const released = gate();
  probe.interceptNext(async (send) => {
    const response = answer ? answer() : await send();
    arrived.open();
    await released.promise;
    return response;
  });
  return { arrived: arrived.promise, release: released.open };
}
