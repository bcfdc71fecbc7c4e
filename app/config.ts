// The app's configuration: read from the environment once, checked once, at start-up. A bad value
// throws a TypeError naming the variable to fix, never a failure at request time.

/** Where tokens come from: the in-process simulator, or Atlassian itself. */
export type AppMode = 'sandbox' | 'atlassian';

/** Log levels, from the most verbose. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The app's configuration. {@link loadConfig} builds it from environment variables. */
export interface AppConfig {
  /** `sandbox` when no Atlassian credentials are given (the default), else `atlassian`. */
  mode: AppMode;
  /** `NODE_ENV=production`: ACE's production settings. */
  production: boolean;
  /** `HOST`. Default `127.0.0.1` in the sandbox (a toy must not face the network), else `0.0.0.0`. */
  host: string;
  /** `PORT`. Default 3000; 0 picks a free port. */
  port: number;
  /**
   * `AC_LOCAL_BASE_URL`: the app's public origin, the descriptor's `baseUrl`. Required with
   * Atlassian (https). Default in the sandbox: `http://localhost:<port>`.
   */
  localBaseUrl?: string;
  /**
   * `ATLASSIAN_CLIENT_ID` and `ATLASSIAN_CLIENT_SECRET` of the OAuth 2.0 (3LO) app; in the sandbox,
   * the credentials the simulator is created with.
   */
  oauth: { clientId: string; clientSecret: string };
  /**
   * `REDIS_URL`: installations, OAuth states and tokens in Redis, for any number of processes.
   * Required with Atlassian; optional in the sandbox (memory stores).
   */
  redisUrl?: string;
  /** `REDIS_KEY_PREFIX`. Default `jtr:`. */
  keyPrefix: string;
  /**
   * `TOKEN_ENCRYPTION_KEY`: base64 of 32 random bytes, comma-separated for key rotation (the first
   * encrypts). Required with `REDIS_URL`.
   */
  encryptionKey?: string[];
  /**
   * `APP_SECRET`: base64 of at least 32 random bytes; keys launch tokens and pending site choices.
   * Default: derived from the first encryption key (which every process shares), else random.
   */
  appSecret?: string;
  /** `AC_HOST_SCRIPT_URL`: the Connect JavaScript API. Default Atlassian's all.js (the sandbox: its stand-in). */
  hostScriptUrl?: string;
  /** `SIM_ACCESS_TOKEN_TTL`: the simulator's access-token lifetime, seconds. Sandbox only. */
  simAccessTokenTtlSeconds?: number;
  /** `LOG_LEVEL`. Default `info`. */
  logLevel: LogLevel;
  /**
   * `PERSONAL_DATA_REPORT_DAYS`: the personal data reporting cycle, in days, 1 to 14; `0` turns
   * reporting off. Default 7, Atlassian's recommended cycle.
   */
  personalDataReportDays: number;
  /**
   * `KEEP_ALIVE_AFTER_DAYS`: the token manager's `keepAliveAfterDays`: chains idle this many days
   * are rotated before Atlassian's 90-day inactivity expiry. 0 to 89; `0` turns keep-alive off.
   * Default 30.
   */
  keepAliveAfterDays: number;
  /**
   * Requests each (tenant, user) may make to each consent route (launch, connect, callback) per
   * window; requests without a valid user count per client address. `CONNECT_RATE_LIMIT`
   * (default 10) per `CONNECT_RATE_WINDOW_SECONDS` (default 60).
   */
  rateLimit: { limit: number; windowMs: number };
}

type Env = Record<string, string | undefined>;

/** The sandbox's OAuth client: the simulator accepts these and no others. */
const SANDBOX_CREDENTIALS = Object.freeze({ clientId: 'sim-client-id', clientSecret: 'sim-client-secret' });

/**
 * Reads and checks the configuration.
 * @throws TypeError naming the environment variable that is missing or wrong.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const clientId = read('ATLASSIAN_CLIENT_ID');
  const clientSecret = read('ATLASSIAN_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new TypeError('ATLASSIAN_CLIENT_ID and ATLASSIAN_CLIENT_SECRET must be set together (or neither)');
  }
  const mode: AppMode = clientId ? 'atlassian' : 'sandbox';
  const atlassian = mode === 'atlassian';

  const localBaseUrl = read('AC_LOCAL_BASE_URL');
  if (localBaseUrl !== undefined) {
    requireUrl(localBaseUrl, 'AC_LOCAL_BASE_URL', atlassian ? ['https:'] : ['https:', 'http:']);
  } else if (atlassian) {
    throw new TypeError(
      'AC_LOCAL_BASE_URL is required with Atlassian credentials (the https URL of this app)',
    );
  }
  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined) requireUrl(redisUrl, 'REDIS_URL', ['redis:', 'rediss:']);
  else if (atlassian) {
    // In memory, installations and tokens die with the process: a restart would break every tenant.
    throw new TypeError(
      'REDIS_URL is required with Atlassian credentials: installations and tokens must persist',
    );
  }
  const encryptionKey = read('TOKEN_ENCRYPTION_KEY')
    ?.split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  if (encryptionKey?.length) {
    for (const key of encryptionKey)
      requireKey(key, 'TOKEN_ENCRYPTION_KEY', (n) => n === 32, 'of 32 random bytes');
  } else if (redisUrl !== undefined) {
    throw new TypeError('TOKEN_ENCRYPTION_KEY is required with REDIS_URL (base64 of 32 random bytes)');
  }
  const appSecret = read('APP_SECRET');
  if (appSecret !== undefined)
    requireKey(appSecret, 'APP_SECRET', (n) => n >= 32, 'of at least 32 random bytes');
  const hostScriptUrl = read('AC_HOST_SCRIPT_URL');
  if (hostScriptUrl !== undefined) requireUrl(hostScriptUrl, 'AC_HOST_SCRIPT_URL', ['https:', 'http:']);
  const ttl = read('SIM_ACCESS_TOKEN_TTL');
  const logLevel = (read('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new TypeError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    mode,
    production: env.NODE_ENV === 'production',
    host: read('HOST') ?? (atlassian ? '0.0.0.0' : '127.0.0.1'),
    port: integer(read('PORT') ?? '3000', 'PORT', 0, 65_535),
    localBaseUrl: localBaseUrl?.replace(/\/+$/, ''),
    oauth: clientId && clientSecret ? { clientId, clientSecret } : SANDBOX_CREDENTIALS,
    redisUrl,
    keyPrefix: read('REDIS_KEY_PREFIX') ?? 'jtr:',
    encryptionKey: encryptionKey?.length ? encryptionKey : undefined,
    appSecret,
    hostScriptUrl,
    simAccessTokenTtlSeconds: ttl === undefined ? undefined : integer(ttl, 'SIM_ACCESS_TOKEN_TTL', 1, 86_400),
    logLevel,
    personalDataReportDays: integer(
      read('PERSONAL_DATA_REPORT_DAYS') ?? '7',
      'PERSONAL_DATA_REPORT_DAYS',
      0,
      14,
    ),
    keepAliveAfterDays: integer(read('KEEP_ALIVE_AFTER_DAYS') ?? '30', 'KEEP_ALIVE_AFTER_DAYS', 0, 89),
    rateLimit: {
      limit: integer(read('CONNECT_RATE_LIMIT') ?? '10', 'CONNECT_RATE_LIMIT', 1, 1_000_000),
      windowMs:
        integer(read('CONNECT_RATE_WINDOW_SECONDS') ?? '60', 'CONNECT_RATE_WINDOW_SECONDS', 1, 86_400) * 1000,
    },
  };
}

function integer(value: string, name: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

// The value is never echoed: URLs may hold a password.
function requireUrl(value: string, name: string, protocols: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  if (!protocols.includes(url.protocol))
    throw new TypeError(`${name} must be a ${protocols.join(' or ')} URL`);
}

function requireKey(value: string, name: string, sizeOk: (bytes: number) => boolean, size: string): void {
  // The token core accepts base64 and base64url alike (Buffer decodes both).
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) || !sizeOk(Buffer.from(value, 'base64').length)) {
    throw new TypeError(`${name} must be base64 ${size} (openssl rand -base64 32)`);
  }
}
