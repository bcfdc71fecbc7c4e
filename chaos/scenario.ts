// The chaos scenario, shared by `npm test` (small) and `npm run chaos` (large): P app processes on
// one Redis, a simulator that fails a seeded share of token requests, and many expiry rounds. It
// counts what users got (a valid token or a 503 with Retry-After), and what the chains suffered.

import { randomBytes, randomUUID } from 'node:crypto';
import { createTokenManager, type InDoubtReason, type TokenManager, type UserRef } from 'jira-token-rotation';
import { DEFAULT_SITES, type SimAccount, type SimStats } from '../sim';
import { CALM, CHAOS, WORKER_OPTIONS } from './chaos-settings';
import type { ChaosMessage } from './chaos-protocol';
import { type ForkedChild, forkChild } from '../support/forked-child';
import { type SimServer, startSim } from '../support/sim-server';

const HOUR = 3_600_000;
const SITE = { cloudId: DEFAULT_SITES[0].id, url: DEFAULT_SITES[0].url };

export interface ChaosOptions {
  /** Expiry rounds: each moves the clock an hour on, so every user's access token has expired. */
  rounds: number;
  /** App processes. */
  processes: number;
  /** Concurrent requests per process per round, spread over the users. */
  concurrency: number;
  /** Users (Atlassian accounts of one tenant), each with a chain of their own. */
  users: number;
  /** Seed of the simulator's chaos. */
  seed: number;
  /** The Redis the processes share; the scenario uses a key prefix of its own and removes it. */
  redisUrl: string;
  /** The compiled chaos worker (dist/chaos/chaos-child.js, built by `npm run build`). */
  workerPath: string;
  /** Longest wait for the chains to settle after a round before the run fails. Default 60 s. */
  settleTimeoutMs?: number;
  /** Progress, one line per round. */
  log?: (line: string) => void;
}

/** The figures `npm run chaos -- --json` prints. */
export interface ChaosFigures {
  rounds: number;
  /** Requests sent to the app processes. */
  requests: number;
  /** Answered with an access token that the simulator accepted. */
  ok: number;
  /** Answered 503 with a Retry-After header. */
  served503: number;
  /** Token families revoked by the simulator (reuse detection). */
  revocations: number;
  /** Chains the processes marked `reauthorization_required`. */
  reauthorizationRequired: number;
  /** Users who, after the rounds and with the chaos off, did not get a valid token by one rotation. */
  lostChains: number;
  /** Answers that were neither of the above, plus unhandled rejections and uncaught exceptions. */
  unhandled: number;
}

export interface ChaosReport {
  figures: ChaosFigures;
  /** How many 503s carried each error code. */
  codes: Record<string, number>;
  sim: SimStats;
  inDoubt: Record<InDoubtReason, number>;
  recoveries: number;
  /** Known secrets found in any process's logs (must be empty). */
  leaked: string[];
  /** The first few answers counted in `unhandled`, for diagnosis. */
  otherAnswers: unknown[];
  durationMs: number;
}

type Worker = ForkedChild<ChaosMessage>;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const log = options.log ?? (() => undefined);
  const accounts: SimAccount[] = Array.from({ length: options.users }, (_, i) => ({
    accountId: `chaos-user-${i + 1}`,
    name: `Chaos User ${i + 1}`,
    email: `chaos-user-${i + 1}@example.com`,
    siteIds: [SITE.cloudId],
  }));
  const clientKey = `chaos-tenant-${randomUUID()}`;
  const users: UserRef[] = accounts.map((a) => ({ clientKey, accountId: a.accountId }));
  const keyPrefix = `jtr-chaos:${randomUUID()}:`;
  const encryptionKey = randomBytes(32).toString('base64');
  const server = await startSim({ seed: options.seed, accounts });
  const sim = server.sim;
  // A process of its own that consents and reads states: it never requests tokens during the rounds.
  const observer = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: server.tokenUrl,
    redis: options.redisUrl,
    keyPrefix,
    encryptionKey,
    recoveryIntervalMs: 0,
    clockSyncIntervalMs: 0,
    now: () => sim.clock.now(),
  });
  const workers: Worker[] = [];
  const recoveredEvents = new EventCounter();
  try {
    for (const user of users) await observer.save(user, sim.consent(user.accountId), SITE);
    for (let i = 0; i < options.processes; i++) {
      const worker = forkChild<ChaosMessage>(options.workerPath, {
        TOKEN_URL: server.tokenUrl,
        API_BASE_URL: server.baseUrl,
        REDIS_URL: options.redisUrl,
        KEY_PREFIX: keyPrefix,
        ENCRYPTION_KEY: encryptionKey,
        CLIENT_KEY: clientKey,
        SIM_NOW: String(sim.clock.now()),
        MANAGER_OPTIONS: JSON.stringify(WORKER_OPTIONS),
      });
      worker.child.on('message', (m: ChaosMessage) => {
        if (m.type === 'event') recoveredEvents.add();
      });
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.next('ready')));
    sim.setChaos(CHAOS);

    const totals = { requests: 0, ok: 0, served503: 0, other: 0 };
    const codes: Record<string, number> = {};
    const otherAnswers: unknown[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      sim.clock.advance(HOUR + 1);
      const simNow = sim.clock.now();
      workers.forEach((worker, w) =>
        worker.send({
          type: 'round',
          simNow,
          // Every process asks for every user, in a different order.
          accountIds: Array.from(
            { length: options.concurrency },
            (_, i) => accounts[(i + w) % accounts.length].accountId,
          ),
        }),
      );
      for (const done of await Promise.all(workers.map((w) => w.next('round-done')))) {
        totals.ok += done.ok;
        totals.served503 += done.served503;
        totals.other += done.other.length;
        otherAnswers.push(...done.other.slice(0, 5 - Math.min(5, otherAnswers.length)));
        for (const [code, n] of Object.entries(done.codes)) codes[code] = (codes[code] ?? 0) + n;
      }
      totals.requests += options.processes * options.concurrency;
      // Before the clock moves on (an hour: far past the leeway), every chain in doubt must be
      // recovered, as the sweepers would within seconds in production. Waiting is event-driven.
      await settle(observer, users, recoveredEvents, options.settleTimeoutMs ?? 60_000);
      log(
        `round ${round}/${options.rounds}: ${totals.ok} ok, ${totals.served503} served 503, ` +
          `${totals.other} other; simulator: ${sim.stats().rotations} rotations, ${sim.stats().revocations} revocations`,
      );
    }

    // The chaos stops; an hour later every user must get a valid token by exactly one rotation.
    sim.setChaos(CALM);
    sim.clock.advance(HOUR + 1);
    let lostChains = 0;
    for (const user of users) {
      if (!(await chainAlive(observer, server, user))) lostChains += 1;
    }

    for (const w of workers) w.send({ type: 'report' });
    const reports = await Promise.all(workers.map((w) => w.next('report')));
    const inDoubt = {} as Record<InDoubtReason, number>;
    for (const r of reports) {
      for (const [reason, n] of Object.entries(r.stats.inDoubt))
        inDoubt[reason as InDoubtReason] = (inDoubt[reason as InDoubtReason] ?? 0) + n;
    }
    const simStats = sim.stats();
    return {
      figures: {
        rounds: options.rounds,
        requests: totals.requests,
        ok: totals.ok,
        served503: totals.served503,
        revocations: simStats.revocations,
        reauthorizationRequired:
          reports.reduce((n, r) => n + r.stats.reauthorizationRequired, 0) +
          observer.stats().reauthorizationRequired,
        lostChains,
        unhandled: totals.other + reports.reduce((n, r) => n + r.unhandled, 0),
      },
      codes,
      sim: simStats,
      inDoubt,
      recoveries: reports.reduce((n, r) => n + r.stats.recoveries, 0),
      leaked: reports.flatMap((r) => r.leaked),
      otherAnswers,
      durationMs: Date.now() - startedAt,
    };
  } finally {
    await Promise.all(
      workers.map(async (w) => {
        if (w.child.exitCode === null) {
          w.send({ type: 'close' });
          await w.next('closed').catch(() => undefined);
        }
        await w.kill();
      }),
    );
    await observer.purgeTenant(clientKey).catch(() => undefined);
    await observer.close();
    await server.close();
  }
}

/** Resolves once no user's chain is in doubt or rotating; a recovery event prompts each re-check. */
async function settle(
  observer: TokenManager,
  users: UserRef[],
  recovered: EventCounter,
  timeoutMs: number,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const seen = recovered.count;
    const states = await Promise.all(users.map(async (u) => (await observer.status(u))?.state));
    const pending = states.filter((s) => s === 'in_doubt' || s === 'rotating').length;
    if (pending === 0) return;
    if (!(await recovered.after(seen, giveUpAt - Date.now()))) {
      throw new Error(`${pending} chain(s) still in doubt ${timeoutMs} ms after the round`);
    }
  }
}

/** One rotation gives the user a token the simulator accepts, nothing revoked, the chain active. */
async function chainAlive(observer: TokenManager, server: SimServer, user: UserRef): Promise<boolean> {
  const before = server.sim.stats();
  try {
    const token = await observer.getAccessToken(user);
    const answer = await fetch(`${server.baseUrl}/ex/jira/${token.cloudId}/rest/api/3/myself`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
    });
    await answer.body?.cancel();
    const after = server.sim.stats();
    return (
      answer.ok &&
      after.rotations === before.rotations + 1 &&
      after.revocations === 0 &&
      (await observer.status(user))?.state === 'active'
    );
  } catch {
    return false;
  }
}

/** Counts events from every worker, and lets the scenario wait for the next one. */
class EventCounter {
  count = 0;
  private waiters: Array<() => void> = [];

  add(): void {
    this.count += 1;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** True once more than `seen` events have arrived; false after `ms` without one. */
  after(seen: number, ms: number): Promise<boolean> {
    if (this.count > seen) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
