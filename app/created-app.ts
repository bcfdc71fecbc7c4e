// What createApp and startApp take and give: the seams for tests, and the assembled app.

import type { Server } from 'node:http';
import type { AddOn } from 'atlassian-connect-express';
import type { Express } from 'express';
import type { LaunchTokens, TokenManager } from 'jira-token-rotation';
import type { Registry } from 'prom-client';
import type { Simulator } from '../sim';
import type { AppLogger } from './logger';
import type { PersonalDataReporter } from './personal-data-reporter';
import type { SandboxTenant } from './sandbox-tenant';
import type { AppUrls, Endpoints } from './urls';

/** Options of `createApp`; the defaults are production's, the rest are seams for tests. */
export interface CreateAppOptions {
  /** The app's URLs. Default: from `config.port` (give them when listening on port 0). */
  urls?: AppUrls;
  /** Default: pino, JSON lines on stdout at `config.logLevel` (secret-named fields redacted). */
  logger?: AppLogger;
  /**
   * Where the token manager registers its metrics, served at GET /metrics. Default: a new
   * registry with prom-client's default process metrics.
   */
  registry?: Registry;
  /** For the token manager and the consent's identity calls. Default: the global fetch. */
  fetch?: typeof fetch;
  /** The real clock (launch tokens, one-time stores). Tokens use the simulator's clock in the sandbox. */
  now?: () => number;
}

/** An assembled app, not yet listening. */
export interface CreatedApp {
  app: Express;
  addon: AddOn;
  tokens: TokenManager;
  /** The consent router's launch tokens (tests issue and check them). */
  launches: LaunchTokens;
  urls: AppUrls;
  endpoints: Endpoints;
  logger: AppLogger;
  /** Sandbox only: the simulator, mounted at /sim. */
  sim?: Simulator;
  /** Sandbox only: the stand-in Confluence site (not installed yet). */
  sandbox?: SandboxTenant;
  /** Personal data reporting; `undefined` when `PERSONAL_DATA_REPORT_DAYS` is 0. */
  reporter?: PersonalDataReporter;
  /** Closes what the app opened: the token manager, stores, Redis connections, the simulator. */
  close(): Promise<void>;
}

/** A listening app. */
export interface RunningApp extends CreatedApp {
  server: Server;
}
