// The sandbox's stand-in for a Confluence site: it installs the app with a signed (RS256) install
// signed by the simulator's install keys, and signs the Connect JWTs Confluence would give a macro
// iframe (HS256 with the shared secret). Tests use it as their Confluence too.

import { randomBytes } from 'node:crypto';
import * as jwt from 'atlassian-jwt';
import { signInstallJwt } from '../sim';
import type { Simulator } from '../sim';

/** Options of {@link SandboxTenant}. */
export interface SandboxTenantOptions {
  /** Signs the install JWTs; the app must fetch its keys (`CONNECT_KEYS_CDN_URL`). */
  sim: Pick<Simulator, 'installKeys'>;
  /** The app's baseUrl, as in its descriptor (the JWTs' audience and the iframes' origin). */
  appBaseUrl: string;
  /** Where to post lifecycle events; default `appBaseUrl` (the sandbox posts over loopback). */
  lifecycleBaseUrl?: string;
  /** The app's key (descriptor `key`). */
  addonKey: string;
  /** Default `jtr-sandbox`. */
  clientKey?: string;
  /** The Confluence base URL. Default `https://sandbox.atlassian.net/wiki` (the sim's first Jira site). */
  baseUrl?: string;
  /** The shared secret the install hands over (and context JWTs are signed with). Default: random. */
  sharedSecret?: string;
  fetch?: typeof fetch;
}

/** Confluence's context JWTs live about three minutes. */
const CONTEXT_JWT_SECONDS = 180;
/** The `qsh` of tokens from `AP.context.getToken()`, which ACE's `checkValidToken()` accepts. */
const CONTEXT_QSH = 'context-qsh';

/** A Confluence site that installs the app and renders its macros. */
export class SandboxTenant {
  readonly clientKey: string;
  readonly baseUrl: string;
  private readonly sharedSecret: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: SandboxTenantOptions) {
    this.sharedSecret = options.sharedSecret ?? randomBytes(32).toString('base64url');
    this.clientKey = options.clientKey ?? 'jtr-sandbox';
    this.baseUrl = options.baseUrl ?? 'https://sandbox.atlassian.net/wiki';
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Posts a signed `installed` event. @throws Error when the app does not answer 204. */
  async install(): Promise<void> {
    await this.lifecycle('/installed', {
      key: this.options.addonKey,
      clientKey: this.clientKey,
      sharedSecret: this.sharedSecret,
      serverVersion: '6452',
      pluginsVersion: '1000.0.0',
      baseUrl: this.baseUrl,
      displayUrl: this.baseUrl,
      productType: 'confluence',
      description: 'Sandbox Confluence',
      eventType: 'installed',
    });
  }

  /** Posts a signed `uninstalled` event. @throws Error when the app does not answer 204. */
  async uninstall(): Promise<void> {
    await this.lifecycle('/uninstalled', {
      key: this.options.addonKey,
      clientKey: this.clientKey,
      baseUrl: this.baseUrl,
      productType: 'confluence',
      eventType: 'uninstalled',
    });
  }

  /**
   * A Connect JWT for `accountId` (none: an anonymous viewer). With `request` it is bound to that
   * request (`qsh`), as in an iframe URL; without, it is what `AP.context.getToken()` returns.
   */
  contextJwt(accountId: string | undefined, request?: { method: string; path: string }): string {
    const iat = Math.floor(Date.now() / 1000);
    const qsh = request
      ? jwt.createQueryStringHash(
          jwt.fromMethodAndUrl(request.method, request.path),
          false,
          this.options.appBaseUrl,
        )
      : CONTEXT_QSH;
    const claims = {
      iss: this.clientKey,
      iat,
      exp: iat + CONTEXT_JWT_SECONDS,
      qsh,
      ...(accountId ? { sub: accountId } : {}),
    };
    return jwt.encodeSymmetric(claims, this.sharedSecret, jwt.SymmetricAlgorithm.HS256);
  }

  /**
   * The iframe URL Confluence would render for a macro at `path` (e.g. `/macro/jira-issues?jql=…`), with the
   * context parameters and the signed `jwt`. `hostOrigin` is the page that frames it (`xdm_e`).
   */
  iframeUrl(path: string, accountId: string | undefined, hostOrigin: string): string {
    const url = new URL(path, `${this.options.appBaseUrl}/`);
    url.searchParams.set('xdm_e', hostOrigin);
    url.searchParams.set('cp', new URL(this.baseUrl).pathname.replace(/\/+$/, ''));
    const signed = `${url.pathname}${url.search}`;
    url.searchParams.set('jwt', this.contextJwt(accountId, { method: 'GET', path: signed }));
    return url.toString();
  }

  private async lifecycle(path: string, body: Record<string, unknown>): Promise<void> {
    const qsh = jwt.createQueryStringHash(jwt.fromMethodAndUrl('POST', path), false, this.options.appBaseUrl);
    const token = signInstallJwt(this.options.sim, {
      iss: this.clientKey,
      aud: this.options.appBaseUrl,
      qsh,
    });
    const response = await this.fetch(`${this.options.lifecycleBaseUrl ?? this.options.appBaseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `JWT ${token}` },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    if (response.status !== 204) throw new Error(`The app answered ${response.status} to ${path}`);
  }
}
