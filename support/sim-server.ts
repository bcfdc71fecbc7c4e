// Runs the simulator on a loopback port, as tests and chaos runs need it: a real HTTP
// server the token manager reaches over the network, not an in-process app.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createSimulator } from '../sim';
import type { Simulator, SimulatorOptions } from '../sim';

/** A simulator listening on 127.0.0.1, and where the token manager reaches it. */
export interface SimServer {
  sim: Simulator;
  /** `http://127.0.0.1:<port>`: api.atlassian.com and auth.atlassian.com in one. */
  baseUrl: string;
  /** The token endpoint, `${baseUrl}/oauth/token`. */
  tokenUrl: string;
  /** Stops the simulator and the server, dropping open connections. */
  close(): Promise<void>;
}

/** Starts a simulator on a free loopback port. */
export async function startSim(options: SimulatorOptions = {}): Promise<SimServer> {
  const sim = createSimulator(options);
  const server: Server = await new Promise((resolve) => {
    const s = sim.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    sim,
    baseUrl,
    tokenUrl: `${baseUrl}/oauth/token`,
    close: async () => {
      sim.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
