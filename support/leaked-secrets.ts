// The no-leak check shared by tests and chaos workers: which known secrets reached the logs.

import type { CaptureLogger } from './capture-logger';

/** Every secret the manager received that appears in its logs (must be empty), abbreviated. */
export function leakedSecrets(logger: CaptureLogger, secrets: Iterable<string>): string[] {
  const text = logger.text();
  return [...secrets].filter((secret) => text.includes(secret)).map((s) => `${s.slice(0, 4)}…`);
}
