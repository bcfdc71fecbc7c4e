// A burst as patient users send it: each call is repeated until it gets a valid token, so the time
// the burst takes is the time users were kept from Jira, whatever the first answers were.

import { setTimeout as delay } from 'node:timers/promises';
import type { ChaosCommand, ChaosMessage, OtherAnswer } from './chaos-protocol';
import { askApp } from './app-answers';

type Serve = Extract<ChaosCommand, { type: 'serve' }>;
type Served = Extract<ChaosMessage, { type: 'served' }>;

/**
 * Runs `command` against the app at `base`; `onFirstOk` is called once, at the first valid token.
 * A call that has no valid token `giveUpMs` after the start counts as unserved.
 */
export async function serveUntilValid(base: string, command: Serve, onFirstOk: () => void): Promise<Served> {
  const served: Served = {
    type: 'served',
    id: command.id,
    ok: 0,
    served503: 0,
    codes: {},
    unserved: 0,
    otherAnswers: 0,
    other: [],
  };
  const other: OtherAnswer[] = [];
  const giveUpAt = Date.now() + command.giveUpMs;
  let first = true;
  await Promise.all(
    command.accountIds.map(async (accountId) => {
      for (;;) {
        const answer = await askApp(`${base}/jira/${encodeURIComponent(accountId)}`);
        if (answer.kind === 'ok') {
          served.ok += 1;
          if (first) onFirstOk();
          first = false;
          return;
        }
        if (answer.kind === '503') {
          served.served503 += 1;
          served.codes[answer.code] = (served.codes[answer.code] ?? 0) + 1;
        } else {
          served.otherAnswers += 1;
          if (other.length < 5) other.push(answer.answer);
        }
        if (Date.now() + command.retryMs > giveUpAt) {
          served.unserved += 1;
          return;
        }
        // A client's pause between retries (not a wait for the system: its answer decides).
        await delay(command.retryMs);
      }
    }),
  );
  return { ...served, other };
}
