// The simulator's public surface.

export { createSimulator } from './simulator';
export { signInstallJwt, type InstallJwtClaims } from './install-keys';
export { DEFAULT_ACCOUNTS, DEFAULT_SITES } from './fixtures';
export { DEFAULT_CONSENT_SCOPE } from './token-issuer';
export { SCRIPTED_OUTCOMES, DEFAULT_CHAOS } from './chaos';
export type { ApiAnswer } from './api-answers';
export { CODE_TTL_MS } from './auth-codes';
export { MAX_REPORTED_ACCOUNTS } from './personal-data';
export type {
  ChaosSettings,
  InstallKeys,
  LateCommit,
  RefreshTokenStatus,
  ScriptedOutcome,
  ScriptedStep,
  SimAccount,
  SimClock,
  SimSite,
  SimStats,
  Simulator,
  SimulatorOptions,
  TokenResponseBody,
} from './types';
