// What a vendor's project holds besides the installed tarball: a TypeScript file typed against the
// published declarations (checked, never run), and a small express 5 app that calls Jira through it.

/**
 * A consumer's TypeScript, for `moduleResolution` node16 and node10 alike. Every `@ts-expect-error`
 * fails the check if the published types were missing or `any`: the check cannot pass vacuously.
 */
export const CONSUMER_TS = `import express, { type Request } from 'express';
// ioredis's named export: its default import is not constructable from an ES module.
import { Redis } from 'ioredis';
import {
  consentRouter,
  createTokenManager,
  ErrorCodes,
  JiraTokenError,
  type TokenManager,
  type TokenManagerOptions,
  type UserRef,
} from 'jira-token-rotation';
import { type AceAddon, aceConsentOptions, aceUserResolver } from 'jira-token-rotation/ace';

const options: TokenManagerOptions = {
  clientId: 'client-id',
  clientSecret: 'client-secret',
  redis: new Redis('redis://127.0.0.1:6379', { lazyConnect: true }),
  encryptionKey: 'a-base64-key',
  keepAliveAfterDays: false,
};
const tokens: TokenManager = createTokenManager(options);

// @ts-expect-error clientId is a string
createTokenManager({ clientId: 42, clientSecret: 'client-secret' });
// @ts-expect-error the option is misspelled
createTokenManager({ clientId: 'client-id', clientSecret: 'client-secret', expiryMarginMS: 1 });

const resolveUser = (req: Request): UserRef | null => {
  const accountId = req.get('x-account');
  return accountId ? { clientKey: 'vendor', accountId } : null;
};

const app = express();
app.get('/me', tokens.middleware({ resolveUser }), async (req, res) => {
  // The middleware's augmentation of express's Request: req.jira is typed, not any.
  const jira = req.jira;
  if (!jira) return void res.status(401).end();
  const expiresAt: number = jira.expiresAt;
  // @ts-expect-error the access token is a string
  const wrong: number = jira.accessToken;
  const answer: Response = await jira.fetch('/rest/api/3/myself');
  res.status(answer.status).json({ expiresAt, wrong });
});
app.get('/ace', tokens.middleware({ resolveUser: aceUserResolver }), (_req, res) => void res.end());
const callbackUrl = 'https://app.example.com/jira/callback';
const secret = 'a secret of at least thirty-two bytes';
app.use('/jira', consentRouter({ tokens, resolveUser, callbackUrl, secret }));
declare const addon: AceAddon;
app.use('/connect/jira', consentRouter({ tokens, callbackUrl, secret, ...aceConsentOptions(addon) }));
// @ts-expect-error secret is required
consentRouter({ tokens, resolveUser, callbackUrl });
// @ts-expect-error resolveUser is required
tokens.middleware({});
app.use((error: unknown, _req: Request, res: express.Response, next: express.NextFunction) => {
  if (error instanceof JiraTokenError && error.code === ErrorCodes.NOT_CONNECTED) res.status(401).end();
  else next(error);
});
`;

/**
 * A vendor's express 5 app from the installed tarball: a Redis-backed manager and one route calling
 * Jira through `req.jira.fetch`, for the user named by the `x-account` header (tests only).
 */
export const BURST_APP_JS = `'use strict';
const express = require('express');
const { createTokenManager } = require('jira-token-rotation');

const env = process.env;
const tokens = createTokenManager({
  clientId: env.CLIENT_ID,
  clientSecret: env.CLIENT_SECRET,
  tokenUrl: env.TOKEN_URL,
  apiBaseUrl: env.API_BASE_URL,
  redis: env.REDIS_URL,
  keyPrefix: env.REDIS_KEY_PREFIX,
  encryptionKey: env.TOKEN_ENCRYPTION_KEY,
});
const app = express();
const resolveUser = (req) => ({ clientKey: 'vendor', accountId: req.get('x-account') });
app.get('/myself', tokens.middleware({ resolveUser }), async (req, res) => {
  const answer = await req.jira.fetch('/rest/api/3/myself');
  res.status(answer.status).json(await answer.json());
});
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => tokens.close().then(() => process.exit(0)));
});
`;
