// The admin page's rows: what a tenant's admin may see of each connected user's Jira chain, as
// display text. Never a token, a fingerprint of one, or the record's ciphertext.

import type { StatusPage, TokenStatus } from 'jira-token-rotation';

/** One row of the admin page. */
export interface ConnectionRow {
  accountId: string;
  /** `connected`, `refreshing`, `recovering` or `needs_consent`: the `data-state` of the row. */
  state: 'connected' | 'refreshing' | 'recovering' | 'needs_consent';
  /** What the admin reads for the state. */
  stateLabel: string;
  expires: string;
  lastRotation: string;
  connectedSince: string;
  /** When the token family ends (`status().familyExpiresAt`): the user must consent again by then. */
  reconnectBy: string;
}

const LABELS: Record<ConnectionRow['state'], string> = {
  connected: 'Connected',
  refreshing: 'Refreshing its token',
  recovering: 'Recovering an interrupted refresh',
  needs_consent: 'Needs to connect Jira again',
};

const STATES: Record<TokenStatus['state'], ConnectionRow['state']> = {
  active: 'connected',
  rotating: 'refreshing',
  in_doubt: 'recovering',
  reauthorization_required: 'needs_consent',
};

/** `2026-11-27 13:05 UTC`: minutes are enough for an admin, and UTC is unambiguous. */
export function displayTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The rows of a listing, sorted by accountId; a user listed twice appears once. */
export function connectionRows(users: StatusPage['users']): ConnectionRow[] {
  const byAccount = new Map(users.map(({ user, status }) => [user.accountId, status]));
  return [...byAccount.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([accountId, status]) => {
      const state = STATES[status.state];
      return {
        accountId,
        state,
        stateLabel: LABELS[state],
        expires: displayTime(status.expiresAt),
        lastRotation: displayTime(status.lastRotatedAt),
        connectedSince: displayTime(status.familyStartedAt),
        // The manager's figure, which follows its familyLifetimeDays option.
        reconnectBy: displayTime(status.familyExpiresAt),
      };
    });
}
