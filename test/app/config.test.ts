// loadConfig: the sandbox by default, Atlassian with credentials, and one TypeError naming the
// variable for anything missing or malformed.

import { loadConfig } from '../../app/config';

const KEY = Buffer.alloc(32, 1).toString('base64');
const ATLASSIAN = {
  ATLASSIAN_CLIENT_ID: 'id',
  ATLASSIAN_CLIENT_SECRET: 'secret',
  AC_LOCAL_BASE_URL: 'https://app.example.com/',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TOKEN_ENCRYPTION_KEY: KEY,
};

describe('loadConfig', () => {
  test('no variables: the sandbox on 127.0.0.1:3000, in memory, with the simulator client', () => {
    expect(loadConfig({})).toEqual({
      mode: 'sandbox',
      production: false,
      host: '127.0.0.1',
      port: 3000,
      localBaseUrl: undefined,
      oauth: { clientId: 'sim-client-id', clientSecret: 'sim-client-secret' },
      redisUrl: undefined,
      keyPrefix: 'jtr:',
      encryptionKey: undefined,
      appSecret: undefined,
      hostScriptUrl: undefined,
      simAccessTokenTtlSeconds: undefined,
      logLevel: 'info',
      personalDataReportDays: 7,
      keepAliveAfterDays: 30,
      rateLimit: { limit: 10, windowMs: 60_000 },
    });
  });

  test('Atlassian credentials: the Connect app on every interface, Redis, encryption', () => {
    const second = Buffer.alloc(32, 2).toString('base64url');
    expect(
      loadConfig({
        ...ATLASSIAN,
        TOKEN_ENCRYPTION_KEY: `${KEY}, ${second}`,
        NODE_ENV: 'production',
        PORT: '8080',
        AC_HOST_SCRIPT_URL: 'https://cdn.example.com/all.js',
      }),
    ).toMatchObject({
      mode: 'atlassian',
      production: true,
      host: '0.0.0.0',
      port: 8080,
      localBaseUrl: 'https://app.example.com',
      oauth: { clientId: 'id', clientSecret: 'secret' },
      redisUrl: 'redis://127.0.0.1:6379',
      encryptionKey: [KEY, second],
      hostScriptUrl: 'https://cdn.example.com/all.js',
    });
  });

  test('PERSONAL_DATA_REPORT_DAYS sets the reporting cycle; 0 turns it off', () => {
    expect(loadConfig({ PERSONAL_DATA_REPORT_DAYS: '14' }).personalDataReportDays).toBe(14);
    expect(loadConfig({ PERSONAL_DATA_REPORT_DAYS: '0' }).personalDataReportDays).toBe(0);
  });

  test('KEEP_ALIVE_AFTER_DAYS sets keep-alive, 0 turns it off, 90 or more is refused', () => {
    expect(loadConfig({ KEEP_ALIVE_AFTER_DAYS: '45' }).keepAliveAfterDays).toBe(45);
    expect(loadConfig({ KEEP_ALIVE_AFTER_DAYS: '0' }).keepAliveAfterDays).toBe(0);
    expect(() => loadConfig({ KEEP_ALIVE_AFTER_DAYS: '90' })).toThrow(/KEEP_ALIVE_AFTER_DAYS/);
  });

  test('CONNECT_RATE_LIMIT per CONNECT_RATE_WINDOW_SECONDS', () => {
    expect(loadConfig({ CONNECT_RATE_LIMIT: '5', CONNECT_RATE_WINDOW_SECONDS: '300' }).rateLimit).toEqual({
      limit: 5,
      windowMs: 300_000,
    });
  });

  test('SIM_ACCESS_TOKEN_TTL maps to seconds', () => {
    expect(loadConfig({ SIM_ACCESS_TOKEN_TTL: '120' }).simAccessTokenTtlSeconds).toBe(120);
  });

  const without = (name: keyof typeof ATLASSIAN) =>
    Object.fromEntries(Object.entries(ATLASSIAN).filter(([key]) => key !== name));

  test.each([
    [{ ATLASSIAN_CLIENT_ID: 'id' }, 'ATLASSIAN_CLIENT_ID and ATLASSIAN_CLIENT_SECRET'],
    [without('AC_LOCAL_BASE_URL'), 'AC_LOCAL_BASE_URL is required'],
    [{ ...ATLASSIAN, AC_LOCAL_BASE_URL: 'http://app.example.com' }, 'AC_LOCAL_BASE_URL must be a https: URL'],
    [without('REDIS_URL'), 'REDIS_URL is required with Atlassian credentials'],
    [without('TOKEN_ENCRYPTION_KEY'), 'TOKEN_ENCRYPTION_KEY is required with REDIS_URL'],
    [{ ...ATLASSIAN, TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'TOKEN_ENCRYPTION_KEY must be base64 of 32'],
    [{ ...ATLASSIAN, TOKEN_ENCRYPTION_KEY: `${KEY},not base64!` }, 'TOKEN_ENCRYPTION_KEY must be base64'],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, 'TOKEN_ENCRYPTION_KEY is required with REDIS_URL'],
    [
      { REDIS_URL: 'http://127.0.0.1:6379', TOKEN_ENCRYPTION_KEY: KEY },
      'REDIS_URL must be a redis: or rediss: URL',
    ],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535'],
    [{ PORT: '3e3' }, 'PORT must be an integer'],
    [{ SIM_ACCESS_TOKEN_TTL: '0' }, 'SIM_ACCESS_TOKEN_TTL must be an integer from 1'],
    [{ PERSONAL_DATA_REPORT_DAYS: '15' }, 'PERSONAL_DATA_REPORT_DAYS must be an integer from 0 to 14'],
    [{ PERSONAL_DATA_REPORT_DAYS: '-1' }, 'PERSONAL_DATA_REPORT_DAYS must be an integer'],
    [{ APP_SECRET: 'c2hvcnQ=' }, 'APP_SECRET must be base64 of at least 32'],
    [{ AC_HOST_SCRIPT_URL: 'all.js' }, 'AC_HOST_SCRIPT_URL must be an absolute URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ CONNECT_RATE_LIMIT: '0' }, 'CONNECT_RATE_LIMIT must be an integer from 1'],
    [{ CONNECT_RATE_WINDOW_SECONDS: '1.5' }, 'CONNECT_RATE_WINDOW_SECONDS must be an integer'],
  ])('%j is refused', (env, message) => {
    expect(() => loadConfig(env)).toThrow(TypeError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('a refused URL is never echoed (it may hold a password)', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@host', TOKEN_ENCRYPTION_KEY: KEY })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
