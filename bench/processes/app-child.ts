// An app process: the strategies under test behind an Express server, plus the load generator
// that fires this process's share of each burst when the orchestrator says 'go'.

import type { Request, RequestHandler, Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { epochMs } from '../clock';
import { serveRpc } from '../ipc';
import { forEachLimited } from '../pool';
import { createStrategy } from '../strategies/create-strategy';
import type { Strategy, StrategyName } from '../strategies/types';
import type { AppOps, BurstSample } from './app-protocol';
import { ACCOUNT_HEADER, RequestLog, createAppServer, tenantOf, userResolver } from './app-server';
import { LoopbackClient } from './loopback-client';

let offsetMs = 0;
// Tenants the users are spread over (init sets it).
let tenants = 1;
const strategies = new Map<StrategyName, Strategy>();
const log = new RequestLog();
let server: Server | undefined;
let client: LoopbackClient | undefined;

function strategy(name: StrategyName): Strategy {
  const found = strategies.get(name);
  if (!found) throw new Error(`strategy ${name} is not loaded in this process`);
  return found;
}

function loopback(): LoopbackClient {
  if (!client) throw new Error('init first');
  return client;
}

const headersFor = (accountId: string): Record<string, string> => ({ [ACCOUNT_HEADER]: accountId });

/** IPC carries JSON, where NaN would arrive as null anyway; say so in the type. */
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

function countStatuses(statuses: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

serveRpc<AppOps>({
  async init(args) {
    offsetMs = args.offsetMs;
    tenants = args.tenants ?? 1;
    const context = {
      clientId: args.clientId,
      clientSecret: args.clientSecret,
      tokenUrl: args.tokenUrl,
      redisUrl: args.redisUrl,
      redis: args.redis,
      keyPrefix: args.keyPrefix,
      encryptionKey: args.encryptionKey,
      now: () => Date.now() + offsetMs,
      sweeper: args.sweeper,
    };
    for (const name of args.strategies) strategies.set(name, createStrategy(name, context));
    // Node loads fetch (undici) on first use, tens of ms; pay it now, and open a connection.
    await fetch(args.tokenUrl).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
    // Subscribed and connected before any burst, so waiters wake on notices from the start.
    await Promise.all([...strategies.values()].map((s) => s.ready()));
    const app = createAppServer([...strategies.values()], log, userResolver(tenants));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 121_000;
    const { port } = server.address() as AddressInfo;
    client = new LoopbackClient(port);
    return { port };
  },

  advance({ ms }) {
    offsetMs += ms;
  },

  async seed({ strategy: name, grants, concurrency }) {
    const target = strategy(name);
    await forEachLimited(grants, concurrency, ({ accountId, tokens }) =>
      target.seed({ clientKey: tenantOf(accountId, tenants), accountId }, tokens),
    );
  },

  async warm({ strategy: name, accountId, connections }) {
    await loopback().open(connections, '/health');
    const { status } = await loopback().get(`/s/${name}`, headersFor(accountId));
    if (status !== 200) throw new Error(`warm-up request for ${name} answered ${status}`);
  },

  async burst({ strategy: name, accountId, concurrency }): Promise<BurstSample> {
    const path = `/s/${name}`;
    const headers = headersFor(accountId);
    log.reset();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const goAt = epochMs();
    const start = performance.now();
    let last = start;
    const results = await Promise.all(
      Array.from({ length: concurrency }, () =>
        loopback()
          .get(path, headers)
          .then((r) => {
            last = Math.max(last, performance.now());
            return r;
          }),
      ),
    );
    const completionMs = last - start;
    loop.disable();
    // 'finish' may come a tick after the client read the answer; then let refresh-ahead or
    // recovery started by this burst finish, so the simulator's counters are complete.
    await new Promise((resolve) => setImmediate(resolve));
    await strategy(name).idle();
    const rotations = strategy(name).rotationMarks?.(goAt);
    return {
      clientMs: results.map((r) => r.ms),
      serverMs: log.serverMs,
      tokenMs: log.tokenMs,
      statuses: countStatuses(results.map((r) => r.status)),
      completionMs,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      marks: {
        goAt,
        firstEntryAt: orNull(log.firstEntryAt),
        firstTokenAt: orNull(log.firstTokenAt),
        lastTokenAt: orNull(log.lastTokenAt),
        lastFinishAt: orNull(log.lastFinishAt),
        rotationStartedAt: rotations?.startedAt[0] ?? null,
        rotatedAt: rotations?.rotatedAt[0] ?? null,
      },
    };
  },

  async load({ strategy: name, accountIds, window }) {
    const path = `/s/${name}`;
    const statuses: number[] = [];
    const clientMs: number[] = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const cpu = process.cpuUsage();
    const start = performance.now();
    await forEachLimited(accountIds, window, async (accountId) => {
      const r = await loopback().get(path, headersFor(accountId));
      statuses.push(r.status);
      clientMs.push(r.ms);
    });
    const elapsedMs = performance.now() - start;
    loop.disable();
    const used = process.cpuUsage(cpu);
    await strategy(name).idle();
    return {
      requests: accountIds.length,
      statuses: countStatuses(statuses),
      clientMs,
      elapsedMs,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      cpuMs: (used.user + used.system) / 1000,
    };
  },

  async middlewareCost({ strategy: name, accountId, iterations }) {
    const req = { get: (header: string) => (header === ACCOUNT_HEADER ? accountId : undefined) } as Request;
    const res = { locals: {} } as Response;
    const time = async (handler: RequestHandler): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < iterations; i++) await new Promise((next) => handler(req, res, next));
      return ((performance.now() - start) * 1000) / iterations;
    };
    const middleware = strategy(name).middleware(userResolver(tenants));
    const empty: RequestHandler = (_req, _res, next) => next();
    await time(middleware);
    await time(empty);
    return { perCallUs: await time(middleware), emptyUs: await time(empty) };
  },

  cpu() {
    const { user, system } = process.cpuUsage();
    return user + system;
  },

  stats() {
    const memory = process.memoryUsage();
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      strategies: Object.fromEntries([...strategies].map(([name, s]) => [name, s.stats()])),
    };
  },

  async close() {
    client?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    await Promise.all([...strategies.values()].map((s) => s.close()));
  },
});
