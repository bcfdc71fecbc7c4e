// What the three recovery probes share: a simulator with consented users, app processes (chaos
// workers) on the probe's own Redis with the package's production defaults, patient bursts timed
// by this process, a cap on every wait, and the closing checks (the simulator's counts, and that
// each user's stored refresh token is the simulator's current one).

import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import {
  type TokenManager,
  type TokenManagerOptions,
  type UserRef,
  createTokenManager,
} from 'jira-token-rotation';
import { DEFAULT_SITES, type SimAccount, type SimStats } from '../../sim';
import type { ChaosMessage } from '../chaos-protocol';
import { type ForkedChild, forkChild } from '../../support/forked-child';
import { type SimServer, startSim } from '../../support/sim-server';
import { refreshTokenJudge } from './refresh-token-judge';

const HOUR = 3_600_000;
const SITE = { cloudId: DEFAULT_SITES[0].id, url: DEFAULT_SITES[0].url };

/** Options every probe takes. */
export interface RecoveryProbeOptions {
  /** The compiled chaos worker (dist/chaos/chaos-child.js). */
  workerPath: string;
  /**
   * The app processes' budgets. Default none: the package's production defaults, so the figure is
   * what a vendor gets. Tests pass short ones.
   */
  managerOptions?: Partial<TokenManagerOptions>;
  /** Longest wait for any condition before the probe fails. Default 60 s. */
  capMs?: number;
  /** How long a patient user pauses before repeating a call that got no valid token. Default 200 ms. */
  retryMs?: number;
}

/** What the simulator counted during a probe (before the closing check). */
export type ProbeSimCounts = Pick<
  SimStats,
  'tokenRequests' | 'rotations' | 'leewayReuses' | 'revocations' | 'invalidGrant'
>;

/** What users got during a probe, over every process's bursts. */
export interface ProbeAnswers {
  /** Calls that ended with a valid token. */
  ok: number;
  /** Calls still without one at the cap (must be 0). */
  unserved: number;
  /** 503 answers (with Retry-After) met along the way, each retried; and their codes. */
  served503: number;
  codes: Record<string, number>;
  /** Any other answers met along the way (a failure), and the first few of them. */
  otherAnswers: number;
  other: unknown[];
}

/** The closing facts every probe reports. */
export interface ProbeOutcome {
  sim: ProbeSimCounts;
  answers: ProbeAnswers;
  /** Every user's stored refresh token was the simulator's current one (none lost, none forked). */
  storedRefreshTokenCurrent: boolean;
  /** Unhandled rejections and uncaught exceptions in the surviving processes (must be 0). */
  unhandled: number;
  /** Known secrets found in the surviving processes' logs (must be empty). */
  leaked: string[];
}

export type Worker = ForkedChild<ChaosMessage>;

/** A burst in flight: when its first valid token and its last call were seen here. */
export interface TimedBurst {
  firstOkAt: Promise<number>;
  done: Promise<{ at: number; served: Extract<ChaosMessage, { type: 'served' }> }>;
}

/** Milliseconds on this process's monotonic clock: every figure is measured here, by one clock. */
export const now = (): number => performance.now();

/** A probe's simulator, users, observer and workers. */
export class ProbeKit {
  readonly clientKey = `recovery-tenant-${randomUUID()}`;
  readonly keyPrefix = `jtr-recovery:${randomUUID()}:`;
  readonly users: UserRef[];
  private readonly encryptionKey = randomBytes(32).toString('base64');
  private readonly workers: Worker[] = [];
  private readonly judge;
  private readonly observer: TokenManager;

  private constructor(
    readonly server: SimServer,
    accounts: SimAccount[],
    private readonly options: RecoveryProbeOptions,
    private readonly redis: string | Redis,
  ) {
    this.users = accounts.map((a) => ({ clientKey: this.clientKey, accountId: a.accountId }));
    this.judge = refreshTokenJudge(server.sim);
    // This process's eye on the store: it consents, and at the end rotates once per user.
    this.observer = createTokenManager({
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
      tokenUrl: server.tokenUrl,
      apiBaseUrl: server.baseUrl,
      redis,
      keyPrefix: this.keyPrefix,
      encryptionKey: this.encryptionKey,
      recoveryIntervalMs: 0,
      fetch: this.judge.fetch,
      now: () => server.sim.clock.now(),
    });
  }

  /**
   * A simulator with `users` consented users saved in `redis` (a URL, or a client the caller
   * closes), and their access tokens expired, so the next call of each rotates.
   */
  static async open(options: RecoveryProbeOptions, users: number, redis: string | Redis): Promise<ProbeKit> {
    const accounts: SimAccount[] = Array.from({ length: users }, (_, i) => ({
      accountId: `recovery-user-${i + 1}`,
      name: `Recovery User ${i + 1}`,
      email: `recovery-user-${i + 1}@example.com`,
      siteIds: [SITE.cloudId],
    }));
    const kit = new ProbeKit(await startSim({ accounts }), accounts, options, redis);
    try {
      for (const user of kit.users)
        await kit.observer.save(user, kit.server.sim.consent(user.accountId), SITE);
      kit.server.sim.clock.advance(HOUR + 1);
    } catch (error) {
      await kit.close();
      throw error;
    }
    return kit;
  }

  /** Account ids for a burst of `calls`, spread over the users. */
  accountIds(calls: number): string[] {
    return Array.from({ length: calls }, (_, i) => this.users[i % this.users.length].accountId);
  }

  /** Starts `count` app processes and resolves once they are ready; `env` adds to their environment. */
  async spawn(count: number, env: Record<string, string> = {}): Promise<Worker[]> {
    const started = Array.from({ length: count }, () =>
      forkChild<ChaosMessage>(this.options.workerPath, {
        TOKEN_URL: this.server.tokenUrl,
        API_BASE_URL: this.server.baseUrl,
        REDIS_URL: typeof this.redis === 'string' ? this.redis : '',
        KEY_PREFIX: this.keyPrefix,
        ENCRYPTION_KEY: this.encryptionKey,
        CLIENT_KEY: this.clientKey,
        SIM_NOW: String(this.server.sim.clock.now()),
        MANAGER_OPTIONS: JSON.stringify(this.options.managerOptions ?? {}),
        FORWARD_EVENTS: 'lease_held_elsewhere',
        ...env,
      }),
    );
    this.workers.push(...started);
    await this.capped(Promise.all(started.map((w) => w.next('ready'))), 'the app processes to start');
    return started;
  }

  /** Sends `worker` a patient burst of `calls` and times it here. */
  serve(worker: Worker, calls: number): TimedBurst {
    const id = randomUUID();
    const retryMs = this.options.retryMs ?? 200;
    worker.send({ type: 'serve', id, accountIds: this.accountIds(calls), retryMs, giveUpMs: this.capMs });
    const burst: TimedBurst = {
      firstOkAt: worker.next('first-ok', (m) => m.id === id).then(now),
      done: worker.next('served', (m) => m.id === id).then((served) => ({ at: now(), served })),
    };
    // A killed process's burst never ends: only the bursts a probe awaits may fail it.
    for (const promise of Object.values(burst)) (promise as Promise<unknown>).catch(() => undefined);
    return burst;
  }

  /** Resolves once `worker` says a call waits behind another process's live lease. */
  waiting(worker: Worker): Promise<unknown> {
    return this.capped(
      worker.next('event', (m) => m.event === 'lease_held_elsewhere'),
      'a call to wait behind the lease',
    );
  }

  /** `promise`, or a failure naming `what` once the cap has passed. */
  capped<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`recovery probe: no ${what} within ${this.capMs} ms`)),
        this.capMs,
      );
    });
    return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
  }

  get capMs(): number {
    return this.options.capMs ?? 60_000;
  }

  /**
   * The closing facts: the simulator's counts so far, then, an hour later, one rotation per user
   * whose refresh token the simulator must know as current (it is judged before it is sent; one
   * that is not is never presented, so the check itself revokes nothing). Then the surviving
   * processes' reports.
   */
  async outcome(bursts: Array<Awaited<TimedBurst['done']>>): Promise<ProbeOutcome> {
    const alive = this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    // Whatever a worker still holds in memory (a pair whose write a failover cut off, or that no
    // replica has acknowledged yet) is written before the hour passes, as it would be in seconds.
    for (const w of alive) w.send({ type: 'idle' });
    await this.capped(Promise.all(alive.map((w) => w.next('idle'))), 'workers idle');
    const { tokenRequests, rotations, leewayReuses, revocations, invalidGrant } = this.server.sim.stats();
    this.server.sim.clock.advance(HOUR + 1);
    for (const user of this.users) {
      await this.capped(this.observer.getAccessToken(user), 'closing rotation').catch(() => undefined);
    }
    const current =
      this.judge.verdicts.length === this.users.length && this.judge.verdicts.every((v) => v === 'current');
    for (const w of alive) w.send({ type: 'report' });
    const reports = await this.capped(Promise.all(alive.map((w) => w.next('report'))), 'report');
    const answers: ProbeAnswers = { ok: 0, unserved: 0, served503: 0, codes: {}, otherAnswers: 0, other: [] };
    for (const { served } of bursts) {
      answers.ok += served.ok;
      answers.unserved += served.unserved;
      answers.served503 += served.served503;
      answers.otherAnswers += served.otherAnswers;
      answers.other.push(...served.other.slice(0, 5 - Math.min(5, answers.other.length)));
      for (const [code, n] of Object.entries(served.codes))
        answers.codes[code] = (answers.codes[code] ?? 0) + n;
    }
    return {
      sim: { tokenRequests, rotations, leewayReuses, revocations, invalidGrant },
      answers,
      storedRefreshTokenCurrent: current,
      unhandled: reports.reduce((n, r) => n + r.unhandled, 0),
      leaked: reports.flatMap((r) => r.leaked),
    };
  }

  /** Stops the workers, removes the probe's records, closes the observer and the simulator. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.child.exitCode === null && w.child.signalCode === null) {
          w.send({ type: 'close' });
          await this.capped(w.next('closed'), 'close').catch(() => undefined);
        }
        await w.kill();
      }),
    );
    await this.observer.purgeTenant(this.clientKey).catch(() => undefined);
    await this.observer.close();
    await this.server.close();
  }
}

/** The latest of several times. */
export const latest = (times: number[]): number => Math.max(...times);
