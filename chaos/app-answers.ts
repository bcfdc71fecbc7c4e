// How a chaos worker asks its own app for a token and sorts the answer: a token the simulator
// accepted, a 503 with Retry-After (and its error code), or anything else (a failure).

import type { OtherAnswer } from './chaos-protocol';

/** One answer of the worker's app, sorted. */
export type SortedAnswer =
  { kind: 'ok' } | { kind: '503'; code: string } | { kind: 'other'; answer: OtherAnswer };

/** One request to the worker's own app, sorted; a failed exchange is an answer with status 0. */
export async function askApp(url: string): Promise<SortedAnswer> {
  const answer = await ask(url);
  const body = parse(answer.body);
  if (answer.status === 200 && body?.valid === true) return { kind: 'ok' };
  if (answer.status === 503 && /^[1-9]\d*$/.test(answer.retryAfter ?? '') && body?.error) {
    return { kind: '503', code: String(body.error) };
  }
  return { kind: 'other', answer: { ...answer, body: answer.body.slice(0, 200) } };
}

async function ask(url: string): Promise<OtherAnswer> {
  try {
    const answer = await fetch(url);
    return {
      status: answer.status,
      retryAfter: answer.headers.get('retry-after'),
      body: await answer.text(),
    };
  } catch (error) {
    return { status: 0, retryAfter: null, body: String(error) };
  }
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
