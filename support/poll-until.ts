// Waiting for a condition, not for a time: polls with a short capped backoff and gives up loudly.

/** Resolves once `check` holds (a throwing check counts as not yet); throws after `timeoutMs`. */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 20)) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > giveUpAt) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
