// The simulator process: Atlassian's token endpoint on a loopback port, with its rotation rules,
// its manual clock and its counters, driven by the orchestrator over IPC.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SITES, type Simulator, createSimulator } from '../../sim';
import { serveRpc } from '../ipc';
import type { SimOps } from './sim-protocol';

/** Atlassian's access tokens live about an hour. */
const ACCESS_TOKEN_TTL_SECONDS = 3600;

let sim: Simulator | undefined;
let server: Server | undefined;

function started(): Simulator {
  if (!sim) throw new Error('start the simulator first');
  return sim;
}

serveRpc<SimOps>({
  async start({ accountIds, latencyMs }) {
    const siteIds = [DEFAULT_SITES[0].id];
    sim = createSimulator({
      accounts: accountIds.map((accountId) => ({ accountId, name: accountId, email: '', siteIds })),
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      issuesPerSite: 0,
    });
    sim.setChaos({ latencyMs });
    const app = sim.app;
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    // The app processes keep their connections to the token endpoint across bursts.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 121_000;
    const { port } = server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    return { baseUrl, tokenUrl: `${baseUrl}/oauth/token`, accessTokenTtlMs: ACCESS_TOKEN_TTL_SECONDS * 1000 };
  },
  consent: ({ accountIds }) => accountIds.map((id) => started().consent(id)),
  stats: () => started().stats(),
  advance({ ms }) {
    started().clock.advance(ms);
    return { now: started().clock.now() };
  },
  rss: () => process.memoryUsage().rss,
  async close() {
    sim?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
  },
});
