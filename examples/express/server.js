// A plain express 5 app (no Connect) that lets a user connect Jira and calls Jira with a fresh token.
// An example: its login trusts whatever account id it is given, so never deploy it as it is.
'use strict';
const { createHmac, randomBytes, timingSafeEqual } = require('node:crypto');
const express = require('express');
const { createTokenManager, consentRouter } = require('jira-token-rotation');

const env = process.env;
const port = Number(env.PORT ?? 3000);
const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
const tokens = createTokenManager({
  clientId: env.ATLASSIAN_CLIENT_ID,
  clientSecret: env.ATLASSIAN_CLIENT_SECRET,
  tokenUrl: env.ATLASSIAN_TOKEN_URL, // these three default to Atlassian's own
  apiBaseUrl: env.ATLASSIAN_API_BASE_URL,
  redis: env.REDIS_URL, // omitted: one process, tokens in memory
  keyPrefix: env.REDIS_KEY_PREFIX,
  encryptionKey: env.TOKEN_ENCRYPTION_KEY,
});

// The session: a cookie holding the Atlassian account id (base64url) and its HMAC.
const sessionKey = env.SESSION_SECRET ?? randomBytes(32).toString('hex');
const ACCOUNT_ID = /^[\w:-]{1,128}$/;
const SESSION = /(?:^|;\s*)session=([\w-]{1,200})\.([\w-]{43})(?:;|$)/;
const mac = (value) => createHmac('sha256', sessionKey).update(value).digest('base64url');
function resolveUser(req) {
  const match = SESSION.exec(req.get('cookie') ?? '');
  if (!match || !timingSafeEqual(Buffer.from(match[2]), Buffer.from(mac(match[1])))) return null;
  const accountId = Buffer.from(match[1], 'base64url').toString();
  return ACCOUNT_ID.test(accountId) ? { clientKey: 'example', accountId } : null;
}

const app = express();
app.get('/login', (req, res) => {
  const account = String(req.query.account ?? '');
  if (!ACCOUNT_ID.test(account)) return res.status(400).send('Usage: /login?account=<Atlassian account id>');
  const id = Buffer.from(account).toString('base64url');
  const secure = publicUrl.startsWith('https:');
  res.cookie('session', `${id}.${mac(id)}`, { httpOnly: true, sameSite: 'lax', secure }).redirect('/');
});
app.use(
  '/jira',
  consentRouter({
    tokens,
    resolveUser,
    callbackUrl: `${publicUrl}/jira/callback`, // registered with Atlassian
    secret: env.APP_SECRET, // at least 32 bytes
    authorizeUrl: env.ATLASSIAN_AUTHORIZE_URL,
  }),
);
app.get('/myself', tokens.middleware({ resolveUser }), async (req, res) => {
  if (!req.jira) return res.status(401).json({ error: 'log in first: /login?account=<account id>' });
  const answer = await req.jira.fetch('/rest/api/3/myself');
  res.status(answer.status).json(await answer.json());
});
app.get('/', (_req, res) =>
  res.send(`<script src="/jira/consent.js"></script>
<button onclick="JiraConsent.connect({ base: '/jira' }).then((r) => alert(JSON.stringify(r)))">Connect Jira</button>
<a href="/myself">Who am I in Jira?</a>`),
);

const server = app.listen(port, () => console.log(`Listening on http://localhost:${server.address().port}`));
