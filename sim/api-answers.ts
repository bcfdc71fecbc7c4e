// Scripted answers of the Jira API (api.atlassian.com/ex/jira/…): rate limits, outages and
// dropped connections, consumed in order by the next API requests, before any bearer check.

/** One forced answer: an error status (with an optional Retry-After), or a dropped connection. */
export type ApiAnswer = { status: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number } | { drop: true };

const STATUSES = new Set([429, 500, 502, 503, 504]);
/** The queue is for tests and benchmarks, not a store: a bound keeps a bad script from growing it. */
const MAX_QUEUED = 1_000;

/** Validates an untrusted list of answers; throws `RangeError`. */
export function parseApiAnswers(input: unknown): ApiAnswer[] {
  if (!Array.isArray(input)) throw new RangeError('answers must be an array');
  return input.map((value: unknown): ApiAnswer => {
    const answer = (value ?? {}) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new RangeError('Each answer must be an object');
    const keys = Object.keys(answer);
    if (answer.drop === true && keys.length === 1) return { drop: true };
    if (typeof answer.status !== 'number' || !STATUSES.has(answer.status))
      throw new RangeError('status must be one of 429, 500, 502, 503, 504 (or give {"drop": true})');
    if (keys.some((key) => key !== 'status' && key !== 'retryAfterSeconds'))
      throw new RangeError('An answer has only status and retryAfterSeconds');
    const { retryAfterSeconds } = answer;
    if (
      retryAfterSeconds !== undefined &&
      (typeof retryAfterSeconds !== 'number' ||
        !Number.isSafeInteger(retryAfterSeconds) ||
        retryAfterSeconds < 0)
    )
      throw new RangeError('retryAfterSeconds must be a non-negative integer');
    return {
      status: answer.status as 429 | 500 | 502 | 503 | 504,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
  });
}

/** The queue of scripted API answers of one simulator. */
export class ApiAnswerScript {
  private readonly queue: ApiAnswer[] = [];

  /** Appends validated answers; returns how many are pending. */
  enqueue(answers: readonly ApiAnswer[]): number {
    const parsed = parseApiAnswers(answers);
    if (this.queue.length + parsed.length > MAX_QUEUED)
      throw new RangeError(`At most ${MAX_QUEUED} API answers may be pending`);
    this.queue.push(...parsed);
    return this.queue.length;
  }

  /** The next forced answer, if any. */
  next(): ApiAnswer | undefined {
    return this.queue.shift();
  }

  pending(): number {
    return this.queue.length;
  }
}
