// The logging safety nets: secret-named fields and JWTs never reach a line of the app's pino
// logger; request URLs lose the values of jwt, code, state, launch and acpt, and no header is logged.

import express from 'express';
import request from 'supertest';
import { aceLogger, createLogger, redactText } from '../../app/logger';
import { redactUrl, requestLog } from '../../app/request-log';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl';

describe('createLogger', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line) => lines.push(line) } });
  beforeEach(() => (lines.length = 0));

  test('one JSON line per entry; secret-named fields blanked, fingerprints kept', () => {
    logger.info(
      {
        event: 'x',
        accessToken: 'secret-access',
        nested: { refresh_token: 'secret-refresh', code: 'auth-code', sharedSecret: 'shh' },
        refreshToken: 'a1b2c3d4',
        note: `bearer ${JWT}`,
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'hello',
      event: 'x',
      accessToken: '[redacted]',
      nested: { refresh_token: '[redacted]', code: '[redacted]', sharedSecret: '[redacted]' },
      refreshToken: 'a1b2c3d4',
      note: 'bearer [jwt]',
    });
  });

  test('message texts and errors are redacted too; an error keeps its name and message, not its stack', () => {
    const error = new Error(`refused ${JWT}`);
    logger.warn({ event: 'y', err: error }, `sharedSecret: 'abc' and ${JWT}`);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', msg: "sharedSecret: '[redacted]' and [jwt]" });
    expect(entry.err).toEqual({ name: 'Error', message: 'refused [jwt]' });
    expect(lines[0]).not.toContain(JWT);
    expect(lines[0]).not.toContain('at ');
  });

  test('levels below the threshold are dropped', () => {
    logger.debug({ event: 'quiet' });
    logger.warn({ event: 'loud' });
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['loud']);
  });

  test("ACE's varargs become one line, redacted; its info is our debug", () => {
    const debugLines: string[] = [];
    aceLogger(createLogger({ level: 'debug', destination: { write: (line) => debugLines.push(line) } })).info(
      `Saved tenant details\n{ clientKey: 'k', sharedSecret: 'abc123' } ${JWT}`,
      {
        token: 't',
      },
    );
    const entry = JSON.parse(debugLines[0]) as { level: string; msg: string; ace: unknown };
    expect(entry.level).toBe('debug');
    expect(entry.msg).not.toContain('abc123');
    expect(entry.msg).not.toContain(JWT);
    expect(entry.ace).toEqual([{ token: '[redacted]' }]);
  });

  test('redactText blanks JSON and inspect forms of a shared secret', () => {
    expect(redactText('"sharedSecret":"abc"')).toBe('"sharedSecret":"[redacted]"');
    expect(redactText("sharedSecret: 'abc'")).toBe("sharedSecret: '[redacted]'");
  });
});

describe('redactUrl', () => {
  test.each([
    ['/macro/jira-issues?jql=x&jwt=abc', '/macro/jira-issues?jql=x&jwt=redacted'],
    ['/jira/callback?code=c&state=s', '/jira/callback?code=redacted&state=redacted'],
    ['/healthz', '/healthz'],
    ['/x?JWT=a&jwt=b', '/x?JWT=redacted&jwt=redacted'],
    // The query parser reads `code[k]=` as `code` (an object): as secret.
    ['/jira/callback?code%5Bk%5D=c&state[]=s', '/jira/callback?code%5Bk%5D=redacted&state%5B%5D=redacted'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('requestLog (pino-http)', () => {
  const lines: string[] = [];
  const app = express();
  app.use(requestLog(createLogger({ level: 'debug', destination: { write: (line) => lines.push(line) } })));
  app.get('/ok', (_req, res) => void res.send('ok'));
  app.get('/fail', (_req, res) => void res.status(503).send('no'));
  app.get('/bug', (_req, res) => void res.status(500).send('no'));
  beforeEach(() => (lines.length = 0));

  test('one line per request: secret parameters blanked, no header, successes at debug', async () => {
    await request(app)
      .get(`/ok?jql=x&jwt=${JWT}&acpt=${JWT}`)
      .set('authorization', `JWT ${JWT}`)
      .set('cookie', 'jtr-consent=nonce-value')
      .expect(200);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'debug',
      event: 'request',
      msg: 'request',
      req: { method: 'GET', url: '/ok?jql=x&jwt=redacted&acpt=redacted' },
      res: { statusCode: 200 },
    });
    expect(Object.keys(entry.req as object).sort()).toEqual(['id', 'method', 'url']);
    expect(Object.keys(entry.res as object)).toEqual(['statusCode']);
    expect(typeof entry.responseTime).toBe('number');
    expect(lines[0]).not.toContain(JWT);
    expect(lines[0]).not.toContain('nonce-value');
  });

  test('failures at info', async () => {
    await request(app).get('/fail?code=c&state=s').expect(503);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      event: 'request',
      req: { url: '/fail?code=redacted&state=redacted' },
      res: { statusCode: 503 },
    });
  });

  test("a 500 carries pino-http's error by name and message, without stack", async () => {
    await request(app).get('/bug').expect(500);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', msg: 'request failed', res: { statusCode: 500 } });
    expect(entry.err).toEqual({ name: 'Error', message: 'failed with status code 500' });
  });
});
