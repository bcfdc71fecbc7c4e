// The URLs the app uses, once its port is known: its own, and Atlassian's (or the simulator's,
// mounted at /sim in the sandbox).

import type { AppConfig } from './config';

/** The app's own origins. */
export interface AppUrls {
  /** The public base URL: the descriptor's `baseUrl`, the macro iframes' origin. */
  localBaseUrl: string;
  /** The app over loopback, for the sandbox's calls to its own simulator and install hook. */
  internalBaseUrl: string;
  /** The sandbox's stand-in Confluence page: another origin than `localBaseUrl`, as in production. */
  sandboxOrigin: string;
}

/** The upstream endpoints. */
export interface Endpoints {
  /** Browser-facing. */
  authorizeUrl: string;
  tokenUrl: string;
  /** api.atlassian.com: Jira through `/ex/jira/{cloudId}`, plus `/me` and accessible-resources. */
  apiBaseUrl: string;
  meUrl: string;
  resourcesUrl: string;
  /** The personal data reporting API of OAuth 2.0 apps. */
  reportAccountsUrl: string;
  /** The Connect JavaScript API (`all.js`) the macro pages load. */
  hostScriptUrl: string;
  /** The Connect install-key CDN (`CONNECT_KEYS_CDN_URL`) that the sandbox's installs need. */
  connectKeysUrl?: string;
}

/** The scopes the macro needs: search, the user, the `/me` check, and a refresh token. */
export const OAUTH_SCOPES = 'read:jira-work read:jira-user read:me offline_access';

/** The app's URLs once it listens on `port`. */
export function appUrls(config: AppConfig, port: number): AppUrls {
  const loopback = ['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(config.host)
    ? '127.0.0.1'
    : config.host.includes(':')
      ? `[${config.host}]`
      : config.host;
  const localBaseUrl = config.localBaseUrl ?? `http://localhost:${port}`;
  // localhost and 127.0.0.1 are different origins on the same server: the browser then treats
  // the macro iframes as cross-origin, as Confluence's would be.
  const sandboxHost = new URL(localBaseUrl).hostname === '127.0.0.1' ? 'localhost' : '127.0.0.1';
  return {
    localBaseUrl,
    internalBaseUrl: `http://${loopback}:${port}`,
    sandboxOrigin: `http://${sandboxHost}:${port}`,
  };
}

/** Atlassian's endpoints, or the in-process simulator's. */
export function endpoints(config: AppConfig, urls: AppUrls): Endpoints {
  if (config.mode === 'atlassian') {
    const api = 'https://api.atlassian.com';
    return {
      authorizeUrl: 'https://auth.atlassian.com/authorize',
      tokenUrl: 'https://auth.atlassian.com/oauth/token',
      apiBaseUrl: api,
      meUrl: `${api}/me`,
      resourcesUrl: `${api}/oauth/token/accessible-resources`,
      reportAccountsUrl: `${api}/app/report-accounts/`,
      hostScriptUrl: config.hostScriptUrl ?? 'https://connect-cdn.atl-paas.net/all.js',
    };
  }
  const sim = `${urls.internalBaseUrl}/sim`;
  return {
    authorizeUrl: `${urls.localBaseUrl}/sim/authorize`,
    tokenUrl: `${sim}/oauth/token`,
    apiBaseUrl: sim,
    meUrl: `${sim}/me`,
    resourcesUrl: `${sim}/oauth/token/accessible-resources`,
    reportAccountsUrl: `${sim}/app/report-accounts/`,
    hostScriptUrl: config.hostScriptUrl ?? `${urls.localBaseUrl}/public/sandbox-ap.js`,
    connectKeysUrl: `${sim}/connect-keys`,
  };
}
