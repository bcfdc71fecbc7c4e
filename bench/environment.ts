// Everything a run shares: the dedicated Redis, the simulator process, the app processes alive
// at the moment, and the benchmark clock that all of them follow.

import { randomBytes } from 'node:crypto';
import type { TokenResponseBody, SimStats } from '../sim';
import type { Plan } from './plan';
import type { AppInitArgs, AppOps } from './processes/app-protocol';
import { type ForkedChild, forkChild } from './processes/fork-child';
import type { SimOps } from './processes/sim-protocol';
import { type RedisTarget, startRedis } from './redis/dedicated-redis';
import { RedisProbe } from './redis/redis-probe';
import { type OurProcesses, processTicks } from './interference';
import type { StrategyName } from './strategies/types';
import type { RedisAddress } from './topology/redis-address';
import { TOPOLOGY_NAMES } from './topology/topologies';

/** An app process and the loopback port its server listens on. */
export type AppProcess = ForkedChild<AppOps> & { port: number };

export interface SpawnOptions {
  strategies: StrategyName[];
  /** Appended to the run's prefix, so each part's keys can be counted apart. */
  keyPrefix: string;
  sweeper: boolean;
  /** Tenants the users are spread over (by a hash of the account id). Default 1. */
  tenants?: number;
  execArgv?: string[];
  /** This project's Redis, when not the run's own node (the topologies part). */
  redis?: RedisAddress;
}

const CLIENT_ID = 'sim-client-id';
const CLIENT_SECRET = 'sim-client-secret';

export class BenchEnvironment implements OurProcesses {
  /** Every key of the run starts with this, so nothing else in Redis is touched or counted. */
  readonly runPrefix = `jtrbench:${process.pid}-${Date.now().toString(36)}:`;
  readonly encryptionKey = randomBytes(32).toString('base64');
  private offsetMs = 0;
  private readonly apps = new Set<AppProcess>();
  /** Processes a part started besides the app processes (the topologies' Redis servers). */
  private readonly others = new Set<() => number[]>();
  private nextAccount = 0;
  /** CPU ticks of the app processes already stopped, read just before they stopped. */
  readonly finalTicks = new Map<number, number>();

  private constructor(
    readonly redis: RedisTarget,
    readonly probe: RedisProbe,
    private readonly sim: ForkedChild<SimOps>,
    readonly tokenUrl: string,
    readonly accessTokenTtlMs: number,
    private readonly accountPool: string[],
    readonly scaleAccounts: string[],
    readonly topologyAccounts: string[],
  ) {}

  static async start(plan: Plan): Promise<BenchEnvironment> {
    const redis = await startRedis();
    const sim = forkChild<SimOps>('processes/sim-child.js', 'simulator');
    const accountPool = Array.from({ length: plan.accountPool }, (_, i) => `u${i}`);
    const scaleAccounts = Array.from({ length: plan.scale.users }, (_, i) => `s${i}`);
    const topologyAccounts = Array.from(
      { length: plan.topologies.users * TOPOLOGY_NAMES.length },
      (_, i) => `t${i}`,
    );
    const { tokenUrl, accessTokenTtlMs } = await sim.rpc.call('start', {
      accountIds: [...accountPool, ...scaleAccounts, ...topologyAccounts],
      latencyMs: plan.tokenLatencyMs,
    });
    const probe = new RedisProbe(redis.url);
    return new BenchEnvironment(
      redis,
      probe,
      sim,
      tokenUrl,
      accessTokenTtlMs,
      accountPool,
      scaleAccounts,
      topologyAccounts,
    );
  }

  /**
   * Counts `pids()` among the run's processes (for the interference figures) until the returned
   * function is called, which records their CPU time before they stop.
   */
  adopt(pids: () => number[]): () => void {
    this.others.add(pids);
    return () => {
      for (const pid of pids()) this.finalTicks.set(pid, processTicks(pid));
      this.others.delete(pids);
    };
  }

  /** The run's live processes: this one, the simulator, the dedicated Redis, the app processes. */
  pids(): number[] {
    const children = [
      this.sim.process.pid,
      this.redis.pid,
      ...[...this.apps].map((app) => app.process.pid),
      ...[...this.others].flatMap((pids) => pids()),
    ];
    return [process.pid, ...children.filter((pid): pid is number => pid !== undefined)];
  }

  /** A user nobody has used yet in this run. */
  newAccount(): string {
    const account = this.accountPool[this.nextAccount++];
    if (!account) throw new Error('The account pool is exhausted: raise plan.accountPool');
    return account;
  }

  async spawnApps(count: number, options: SpawnOptions): Promise<AppProcess[]> {
    const apps: AppProcess[] = Array.from({ length: count }, (_, index) => ({
      ...forkChild<AppOps>('processes/app-child.js', `app ${index}`, { execArgv: options.execArgv }),
      port: 0,
    }));
    for (const app of apps) this.apps.add(app);
    const ports = await Promise.all(
      apps.map((app, index) => {
        const args: AppInitArgs = {
          index,
          tokenUrl: this.tokenUrl,
          redisUrl: options.redis?.kind === 'node' ? options.redis.url : this.redis.url,
          redis: options.redis,
          keyPrefix: `${this.runPrefix}${options.keyPrefix}`,
          encryptionKey: this.encryptionKey,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          strategies: options.strategies,
          sweeper: options.sweeper,
          tenants: options.tenants,
          offsetMs: this.offsetMs,
        };
        return app.rpc.call('init', args);
      }),
    );
    ports.forEach(({ port }, i) => (apps[i].port = port));
    return apps;
  }

  async stopApps(apps: AppProcess[]): Promise<void> {
    await Promise.all(
      apps.map(async (app) => {
        await app.rpc.call('close', {}).catch(() => undefined);
        if (app.process.pid) this.finalTicks.set(app.process.pid, processTicks(app.process.pid));
        await app.stop();
        this.apps.delete(app);
      }),
    );
  }

  /** Moves the simulator's clock and every app process's clock forward together. */
  async advance(ms: number): Promise<void> {
    this.offsetMs += ms;
    await Promise.all([
      this.sim.rpc.call('advance', { ms }),
      ...[...this.apps].map((app) => app.rpc.call('advance', { ms })),
    ]);
  }

  /** Browserless consents, in chunks so no IPC message grows large. */
  async consent(accountIds: string[]): Promise<TokenResponseBody[]> {
    const bodies: TokenResponseBody[] = [];
    for (let i = 0; i < accountIds.length; i += 2_000) {
      bodies.push(...(await this.sim.rpc.call('consent', { accountIds: accountIds.slice(i, i + 2_000) })));
    }
    return bodies;
  }

  simStats(): Promise<SimStats> {
    return this.sim.rpc.call('stats', {});
  }

  simRss(): Promise<number> {
    return this.sim.rpc.call('rss', {});
  }

  /** Stops every process, deletes the run's keys, stops the dedicated Redis. */
  async close(): Promise<void> {
    await this.stopApps([...this.apps]);
    await this.sim.rpc.call('close', {}).catch(() => undefined);
    await this.sim.stop();
    await this.probe.deleteUnder(this.runPrefix).catch(() => undefined);
    await this.probe.close().catch(() => undefined);
    await this.redis.stop();
  }
}
