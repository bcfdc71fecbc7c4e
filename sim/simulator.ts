// createSimulator: the handle tests and the sandbox hold, around the app and its state.

import { createSimApp } from './app';
import { createContext } from './context';
import { resolveOptions } from './options';
import type { Simulator, SimulatorOptions } from './types';

/**
 * Creates a simulator of auth.atlassian.com, api.atlassian.com and the Connect install-key CDN.
 * Throws `RangeError` on inconsistent options.
 */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const ctx = createContext(resolveOptions(options));
  return {
    app: createSimApp(ctx),
    clock: ctx.clock,
    stats: () => ctx.snapshot(),
    resetStats: () => ctx.stats.reset(),
    setChaos: (partial) => {
      ctx.chaos.update(partial);
    },
    chaos: () => ctx.chaos.settings(),
    scriptOutcomes: (outcomes) => {
      ctx.chaos.enqueue(outcomes);
    },
    scriptApiAnswers: (answers) => {
      ctx.apiScript.enqueue(answers);
    },
    consent: (accountId, scope) => ctx.issuer.consent(accountId, scope),
    closeAccount: (accountId) => ctx.personalData.close(accountId),
    throttleReports: (count, retryAfterSeconds) => ctx.personalData.throttle(count, retryAfterSeconds),
    refreshTokenStatus: (refreshToken) => ctx.families.status(refreshToken),
    get installKeys() {
      return ctx.installKeys();
    },
    close: () => {
      ctx.lateCommits.closeAll();
      ctx.connections.closeAll();
    },
  };
}
