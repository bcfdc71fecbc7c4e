// A fetch that records every token the manager receives (for the no-leak scans of tests and chaos
// runs) and can hold or replace one token-endpoint exchange (a late holder, a hostile answer).

/**
 * Decides one token-endpoint exchange: `send()` performs the real request, whose body (a string:
 * JSON or form) is `body`.
 */
export type TokenInterceptor = (send: () => Promise<Response>, body: unknown) => Promise<Response>;

/** A recording fetch; see {@link fetchProbe}. */
export interface FetchProbe {
  fetch: typeof fetch;
  /** Every access and refresh token seen in a token-endpoint answer, and any added by hand. */
  secrets: Set<string>;
  /** Token-endpoint requests made (sent or intercepted). */
  tokenRequests: number;
  /** Queues an interceptor for the next token-endpoint request. */
  interceptNext(interceptor: TokenInterceptor): void;
}

/**
 * Wraps `base` (default: the global fetch): token-endpoint answers are read for their tokens, and
 * an interceptor queued with `interceptNext` decides the next exchange. Other requests pass through.
 */
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
      return interceptor ? interceptor(send, init?.body) : send();
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
