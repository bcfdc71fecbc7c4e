// Chaos of the token endpoint: scripted outcomes first, then seeded rates, plus latency and jitter.

import { mulberry32 } from './prng';
import type { ChaosSettings, LateCommit, ScriptedOutcome, ScriptedStep } from './types';

/** Every outcome a refresh can be forced into. */
export const SCRIPTED_OUTCOMES: readonly ScriptedOutcome[] = Object.freeze([
  'ok',
  'server_error',
  'server_error_after_commit',
  'gateway_timeout',
  'gateway_timeout_after_commit',
  'hang',
  'hang_after_commit',
  'drop_after_commit',
  'missing_refresh_token',
]);

/** All knobs off. */
export const DEFAULT_CHAOS: Readonly<ChaosSettings> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  serverErrorRate: 0,
  timeoutRate: 0,
  dropAfterCommitRate: 0,
  missingRefreshTokenRate: 0,
});

// The order in which one draw is partitioned between the rates.
const RATES = [
  ['serverErrorRate', 'server_error'],
  ['timeoutRate', 'hang_after_commit'],
  ['dropAfterCommitRate', 'drop_after_commit'],
  ['missingRefreshTokenRate', 'missing_refresh_token'],
] as const;

/** Validates an untrusted partial (an HTTP body, or a caller's object); throws `RangeError`. */
export function parseChaosPatch(input: unknown): Partial<ChaosSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RangeError('Chaos settings must be an object');
  }
  const patch: Partial<ChaosSettings> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(key in DEFAULT_CHAOS)) throw new RangeError(`Unknown chaos setting: ${key}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${key} must be a finite, non-negative number`);
    }
    if (key.endsWith('Rate') && value > 1) throw new RangeError(`${key} must be at most 1`);
    patch[key as keyof ChaosSettings] = value;
  }
  return patch;
}

/** The longest a late commit may be held: an hour, on either clock. */
export const MAX_LATE_COMMIT_MS = 3_600_000;

/** Validates an untrusted list of steps (outcomes, or late commits); throws `RangeError`. */
export function parseOutcomes(input: unknown): ScriptedStep[] {
  if (!Array.isArray(input)) throw new RangeError('outcomes must be an array');
  return input.map((value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return parseLateCommit(value);
    if (typeof value !== 'string' || !(SCRIPTED_OUTCOMES as readonly string[]).includes(value)) {
      throw new RangeError(`Unknown outcome: ${String(value)}`);
    }
    return value as ScriptedOutcome;
  });
}

function parseLateCommit(value: object): LateCommit {
  const { outcome, delayMs, clock, ...rest } = value as Record<string, unknown>;
  if (outcome !== 'commit_late')
    throw new RangeError('An outcome object must be { outcome: "commit_late", … }');
  if (Object.keys(rest).length > 0)
    throw new RangeError(`Unknown late commit field: ${Object.keys(rest)[0]}`);
  if (
    typeof delayMs !== 'number' ||
    !Number.isFinite(delayMs) ||
    delayMs < 0 ||
    delayMs > MAX_LATE_COMMIT_MS
  ) {
    throw new RangeError(`delayMs must be a number of milliseconds from 0 to ${MAX_LATE_COMMIT_MS}`);
  }
  if (clock !== undefined && clock !== 'real' && clock !== 'sim')
    throw new RangeError("clock must be 'real' or 'sim'");
  return { outcome, delayMs, clock: clock ?? 'real' };
}

/** The chaos state of one simulator. */
export class ChaosController {
  private current: ChaosSettings = { ...DEFAULT_CHAOS };
  private readonly script: ScriptedStep[] = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  settings(): ChaosSettings {
    return { ...this.current };
  }

  /** Merges a partial; the merged rates must add up to at most 1. */
  update(partial: Partial<ChaosSettings>): ChaosSettings {
    const merged = { ...this.current, ...parseChaosPatch(partial) };
    const total = RATES.reduce((sum, [key]) => sum + merged[key], 0);
    if (total > 1) throw new RangeError('The chaos rates add up to more than 1');
    this.current = merged;
    return this.settings();
  }

  /** Appends forced outcomes; they are consumed in order before any rate is drawn. */
  enqueue(outcomes: readonly ScriptedStep[]): number {
    this.script.push(...parseOutcomes(outcomes));
    return this.script.length;
  }

  pending(): number {
    return this.script.length;
  }

  /** The outcome of the next refresh grant. A draw is made only when no outcome is scripted. */
  nextOutcome(): ScriptedStep {
    const scripted = this.script.shift();
    if (scripted !== undefined) return scripted;
    const draw = this.random();
    let bound = 0;
    for (const [key, outcome] of RATES) {
      bound += this.current[key];
      if (draw < bound) return outcome;
    }
    return 'ok';
  }

  /** The real-time delay of the next answer: latency plus seeded jitter (drawn only when jitter is on). */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.current;
    return jitterMs > 0 ? latencyMs + Math.floor(this.random() * jitterMs) : latencyMs;
  }
}
