// `req.jira`: a bearer-authenticated fetch against Jira through api.atlassian.com that, on a 401,
// asks the manager for the token that replaced the rejected one and retries once, and that
// honours Jira's 429 and 503 Retry-After with bounded, jittered retries.

import { type JiraRetryPolicy, isRetryable, retryDelay } from './jira-retry';
import type { AccessToken, UserRef } from '../types';

/** What the middleware attaches to `req.jira`. */
export interface JiraRequestContext {
  accessToken: string;
  expiresAt: number;
  cloudId?: string;
  /**
   * Calls `{apiBaseUrl}/ex/jira/{cloudId}{path}` with the bearer token; on a 401 it retries once
   * with a token refreshed through `getAccessToken(user, { rejected })`; on a 429 (or a 503 to an
   * idempotent method) it waits for Retry-After and retries, at most `maxRetries` times. The last
   * answer is returned as it is: the caller decides what a 429 means for its page.
   * @param path an absolute path on the Jira site, such as `/rest/api/3/search/jql?jql=…`.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export interface JiraClientDeps {
  apiBaseUrl: string;
  /** Timeout of each Jira call, milliseconds; combined with the caller's own `init.signal`. */
  apiTimeoutMs: number;
  fetch: typeof fetch;
  getAccessToken(user: UserRef, options?: { rejected?: string }): Promise<AccessToken>;
  retry: JiraRetryPolicy;
  /** Waits between retries; injectable so tests need no real time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Told of every retry, with the status that caused it (metrics). */
  onRetry?(status: number): void;
  now(): number;
}

/**
 * `req.jira` is built for every request, and most requests only read the token: so it is one
 * small object whose Jira call lives on the prototype, not a new closure per request.
 */
class JiraContext implements JiraRequestContext {
  accessToken: string;
  expiresAt: number;
  cloudId?: string;
  // Private fields: a route that logs or serializes `req.jira` never shows the deps or the user.
  readonly #deps: JiraClientDeps;
  readonly #user: UserRef;

  constructor(deps: JiraClientDeps, user: UserRef, token: AccessToken) {
    this.accessToken = token.accessToken;
    this.expiresAt = token.expiresAt;
    this.cloudId = token.cloudId;
    this.#deps = deps;
    this.#user = user;
  }

  /** A bound function, made only when a route reads it, so `const { fetch } = req.jira` still works. */
  get fetch(): JiraRequestContext['fetch'] {
    return (path, init) => this.call(path, init);
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const deps = this.#deps;
    const url = jiraUrl(deps.apiBaseUrl, this.cloudId, path);
    const method = init.method ?? 'GET';
    let refreshed = false;
    for (let retry = 1; ; retry++) {
      const response = await deps.fetch(url, withBearer(init, this.accessToken, deps.apiTimeoutMs));
      if (response.status === 401 && !refreshed) {
        await response.body?.cancel();
        // Jira refused this token: one rotation for however many requests saw the same 401.
        const fresh = await deps.getAccessToken(this.#user, { rejected: this.accessToken });
        this.accessToken = fresh.accessToken;
        this.expiresAt = fresh.expiresAt;
        refreshed = true;
        retry -= 1; // a token refresh is not one of Jira's retries
        continue;
      }
      if (!isRetryable(response.status, method) || retry > deps.retry.maxRetries) return response;
      const wait = retryDelay(deps.retry, retry, response.headers.get('retry-after'), deps.now());
      if (wait === undefined) return response;
      await response.body?.cancel();
      deps.onRetry?.(response.status);
      await deps.sleep(wait, init.signal ?? undefined);
    }
  }
}

export function createJiraContext(
  deps: JiraClientDeps,
  user: UserRef,
  token: AccessToken,
): JiraRequestContext {
  return new JiraContext(deps, user, token);
}

/**
 * Builds the gateway URL. Only a path is accepted, never a URL, and the result must stay under
 * `{apiBaseUrl}/ex/jira/{cloudId}/` once parsed (dot segments, encoded or not, resolved), so the
 * bearer token cannot be sent anywhere but this user's site on the configured gateway.
 */
export function jiraUrl(apiBaseUrl: string, cloudId: string | undefined, path: string): string {
  if (!cloudId) {
    throw new TypeError(
      'req.jira.fetch: no Jira site is stored for this user (save() was called without a site)',
    );
  }
  const base = new URL(apiBaseUrl);
  const root = `${base.pathname.replace(/\/+$/, '')}/ex/jira/${encodeURIComponent(cloudId)}/`;
  const valid =
    typeof path === 'string' &&
    path.startsWith('/') &&
    !path.startsWith('//') &&
    !/[\r\n\\]/.test(path) &&
    !hasDotSegment(path);
  const url = valid ? new URL(`${base.origin}${root.slice(0, -1)}${path}`) : undefined;
  if (!url || url.origin !== base.origin || !url.pathname.startsWith(root)) {
    throw new TypeError(
      'req.jira.fetch(path): path must be an absolute path on the Jira site, such as /rest/api/3/myself',
    );
  }
  return url.toString();
}
/** A `.` or `..` segment in the path part, plain or percent-encoded (URL parsing resolves both). */
function hasDotSegment(path: string): boolean {
  const pathname = path.split(/[?#]/, 1)[0];
  return pathname.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

function withBearer(init: RequestInit, accessToken: string, timeoutMs: number): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${accessToken}`);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  // Every network call has a timeout; a caller's own signal still applies.
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  return { ...init, headers, signal, redirect: 'manual' };
}
