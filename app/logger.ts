// The app's logger: pino, JSON lines on stdout, with a last line of defence that blanks any field
// named like a secret, whatever code put it there (invariant 6: no secret in logs).

import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Logger } from 'jira-token-rotation';
import type { LogLevel } from './config';

/** Field names whose values never reach a log line, whatever code put them there. */
const SECRET_FIELDS = new Set(
  [
    'access_token',
    'accesstoken',
    'refresh_token',
    'refreshtoken',
    'token',
    'code',
    'jwt',
    'launch',
    'authorization',
    'cookie',
    'sharedsecret',
    'client_secret',
    'clientsecret',
    'password',
  ].map((name) => name.toLowerCase()),
);

/** A token fingerprint (`fingerprint()` in lib/): safe to log, and what correlates log lines. */
const FINGERPRINT = /^[0-9a-f]{8}$/;

/** A JWT (three base64url parts, the header starting `{"`) anywhere in a string. */
const JWT_PATTERN = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

/** `sharedSecret: 'value'` (util.inspect) or `"sharedSecret":"value"` (JSON) inside a text. */
const SHARED_SECRET_PATTERN = /(sharedSecret['"]?\s*[:=]\s*['"]?)[^'"\s,}]+/gi;

/** Blanks JWTs and shared secrets inside a text we did not write (ACE's messages). */
export function redactText(text: string): string {
  return text.replace(JWT_PATTERN, '[jwt]').replace(SHARED_SECRET_PATTERN, '$1[redacted]');
}

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (!value || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return redactFields(value as Record<string, unknown>, depth);
}

/** The fields of one object, each blanked if named like a secret (but a fingerprint), else redacted. */
function redactFields(
  fields: Record<string, unknown>,
  depth = 0,
  keep?: ReadonlySet<string>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, item]) => [
      key,
      keep?.has(key)
        ? item
        : SECRET_FIELDS.has(key.toLowerCase()) && !(typeof item === 'string' && FINGERPRINT.test(item))
          ? '[redacted]'
          : redact(item, depth + 1),
    ]),
  );
}

/** The app's logger: pino, which the token manager and pino-http log through too. */
export type AppLogger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The lowest level written. Default `info`. */
  level?: LogLevel;
  /** Where the JSON lines go. Default: stdout. Tests pass a stream that keeps them. */
  destination?: DestinationStream;
}

/**
 * Keys whose values pino's own serializers shape (pino-http's request and response): left to
 * them, since the formatter sees the raw objects.
 */
const SERIALIZED_KEYS = new Set(['req', 'res']);

/**
 * A pino logger writing one JSON object per line, `{level, time, pid, hostname, msg, ...fields}`,
 * with the level as its name and the time in ISO 8601. Every line's fields pass {@link redact}
 * (secret-named fields blanked, JWTs and shared secrets cut out of texts, errors reduced to name
 * and message) and so does its message text.
 */
export function createLogger(options: LoggerOptions = {}): AppLogger {
  return pino(
    {
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      // The formatter below has already reduced errors to their name and message.
      serializers: { err: (error: unknown) => error },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactFields(fields, 0, SERIALIZED_KEYS),
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg: unknown) => (typeof arg === 'string' ? redactText(arg) : arg));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * ACE logs with console-style varargs (`logger.warn(ctx, 'message')`) and sometimes puts an
 * installation's details in the text; this adapter turns its calls into our lines, redacted.
 */
export function aceLogger(logger: Logger): Console {
  const at =
    (level: 'debug' | 'warn' | 'error') =>
    (...args: unknown[]): void => {
      const text = args.filter((arg) => typeof arg !== 'object' || arg === null).map(String);
      const objects = args.filter((arg) => typeof arg === 'object' && arg !== null);
      logger[level](
        { event: 'ace', ...(objects.length > 0 ? { ace: redact(objects) } : {}) },
        redactText(text.join(' ')),
      );
    };
  // ACE only calls these; its `info` lines (registration notes, a dump of each installation) are
  // debug material here, where our own `installed` line says what matters.
  return { info: at('debug'), warn: at('warn'), error: at('error'), log: at('debug') } as unknown as Console;
}
