// The app's logger: JSON lines on stdout, pino-compatible for the token manager, with a last line
// of defence that blanks any field named like a secret (invariant 6: no secret in logs).

import type { Logger } from '../lib';
import { LOG_LEVELS, type LogLevel } from './config';

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
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_FIELDS.has(key.toLowerCase()) && !(typeof item === 'string' && FINGERPRINT.test(item))
        ? '[redacted]'
        : redact(item, depth + 1),
    ]),
  );
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The lowest level written. Default `info`. */
  level?: LogLevel;
  /** Where a finished line goes. Default: `process.stdout`. */
  write?: (line: string) => void;
}

/** A {@link Logger} writing one JSON object per line: `{level, time, msg, ...fields}`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const at =
    (level: Exclude<LogLevel, 'silent'>) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const fields = redact(obj) as Record<string, unknown>;
      write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
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
