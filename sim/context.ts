// Everything one simulator holds, built once and shared by its routes.

import { randomUUID } from 'node:crypto';
import { AccessTokenStore } from './access-tokens';
import { ApiAnswerScript } from './api-answers';
import { AuthCodeStore } from './auth-codes';
import { ChaosController } from './chaos';
import { ManualClock } from './clock';
import { ConnectionKeeper } from './connections';
import { FamilyRegistry } from './families';
import { generateIssues, type SimIssue } from './fixtures';
import { generateInstallKeys } from './install-keys';
import { LateCommitQueue } from './late-commits';
import { PersonalDataRegistry } from './personal-data';
import type { ResolvedOptions } from './options';
import { randomToken } from './random-token';
import { StatsCounters } from './stats';
import { TokenIssuer } from './token-issuer';
import type { InstallKeys, SimStats } from './types';

/** The state and services of one simulator. */
export interface SimContext {
  readonly options: ResolvedOptions;
  readonly clock: ManualClock;
  readonly families: FamilyRegistry;
  readonly codes: AuthCodeStore;
  readonly accessTokens: AccessTokenStore;
  readonly stats: StatsCounters;
  readonly chaos: ChaosController;
  /** Scripted answers of the Jira API. */
  readonly apiScript: ApiAnswerScript;
  readonly connections: ConnectionKeeper;
  /** Refreshes held in front of the server, committed later (scripted `commit_late`). */
  readonly lateCommits: LateCommitQueue;
  /** Closed and changed accounts, and forced 429s of the personal data reporting API. */
  readonly personalData: PersonalDataRegistry;
  readonly issuer: TokenIssuer;
  /** Issues per cloudId. */
  readonly issues: ReadonlyMap<string, readonly SimIssue[]>;
  readonly installKid: string;
  /** The key pair, generated on first call. */
  installKeys(): InstallKeys;
  /** Counters plus the current family counts. */
  snapshot(): SimStats;
}

/** Builds the state of a simulator from resolved options. */
export function createContext(options: ResolvedOptions): SimContext {
  const clock = new ManualClock(options.startTime);
  const families = new FamilyRegistry(options, randomToken);
  const codes = new AuthCodeStore();
  const accessTokens = new AccessTokenStore();
  const stats = new StatsCounters();
  const names = options.accounts.map((a) => a.name);
  const issues = new Map(options.sites.map((s) => [s.id, generateIssues(s, options.issuesPerSite, names)]));
  const installKid = randomUUID();
  let keys: InstallKeys | undefined;
  return {
    options,
    clock,
    families,
    codes,
    accessTokens,
    stats,
    chaos: new ChaosController(options.seed),
    apiScript: new ApiAnswerScript(),
    connections: new ConnectionKeeper(),
    lateCommits: new LateCommitQueue(clock),
    personalData: new PersonalDataRegistry(),
    issuer: new TokenIssuer({ ...options, clock, families, codes, accessTokens, stats }),
    issues,
    installKid,
    installKeys: () => (keys ??= generateInstallKeys(installKid)),
    snapshot: () => stats.snapshot(families.counts(clock.now())),
  };
}
