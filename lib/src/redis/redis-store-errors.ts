// What RedisTokenStore lets out of Redis failures: a StoreUnavailableError (503) for the caller,
// and log fields that never carry a failed command's arguments (they hold record JSON).

import { JiraTokenError, StoreUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';

/** Runs Redis commands, translating Redis failures into {@link StoreUnavailableError}. */
export async function storeBoundary<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err);
  }
}

/** Programmer and record errors pass; anything else Redis or ioredis throws means the store is unavailable. */
function translate(err: unknown): unknown {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof JiraTokenError) return err;
  // ioredis attaches the failed command with its arguments, which include the record's JSON;
  // keep only the command name on the cause, which callers may log.
  const command = (err as { command?: { name?: unknown } } | null)?.command;
  if (command && typeof command === 'object') (err as { command: unknown }).command = { name: command.name };
  const reason = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(
    `The Jira token store (Redis) failed: ${reason}`,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    err,
  );
}

/** What a log line may carry of an error: never the failed command's arguments. */
export function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: 'Error', message: String(err) };
}
