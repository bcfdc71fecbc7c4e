// The logging safety nets: secret-named fields and JWTs never reach a line; request URLs lose the
// values of jwt, code, state and launch.

import { aceLogger, createLogger, redactText } from '../../app/logger';
import { redactUrl } from '../../app/request-log';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl';

describe('createLogger', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
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

  test('levels below the threshold are dropped', () => {
    logger.debug({ event: 'quiet' });
    logger.warn({ event: 'loud' });
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['loud']);
  });

  test("ACE's varargs become one line, redacted; its info is our debug", () => {
    const debugLines: string[] = [];
    aceLogger(createLogger({ level: 'debug', write: (line) => debugLines.push(line) })).info(
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
