// A fetch for the probes' observer that asks the simulator where each refresh token it is about to
// present stands, before presenting it: the stored refresh token must be the current one. One that
// is not is answered 503 here and never reaches the simulator, so the check revokes nothing.

import type { RefreshTokenStatus, Simulator } from '../../sim';

export interface RefreshTokenJudge {
  fetch: typeof fetch;
  /** The status of each refresh token presented, in order. */
  verdicts: RefreshTokenStatus[];
}

export function refreshTokenJudge(sim: Simulator): RefreshTokenJudge {
  const verdicts: RefreshTokenStatus[] = [];
  return {
    verdicts,
    fetch: async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const refreshToken = url.endsWith('/oauth/token') ? presented(init?.body) : undefined;
      if (refreshToken !== undefined) {
        const verdict = sim.refreshTokenStatus(refreshToken);
        verdicts.push(verdict);
        if (verdict !== 'current') return new Response('not presented', { status: 503 });
      }
      return fetch(input, init);
    },
  };
}

/** The refresh token of a token request body, JSON or form-encoded. */
function presented(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return typeof parsed.refresh_token === 'string' ? parsed.refresh_token : undefined;
  } catch {
    return new URLSearchParams(body).get('refresh_token') ?? undefined;
  }
}
