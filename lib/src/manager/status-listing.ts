// What the app may see of stored chains, one page at a time: the metadata of each record, never
// its ciphertext. Used by the admin page (one tenant) and by personal data reporting (every tenant).

import type { StoredPage, TokenStore } from '../store/token-store';
import { assertClientKey } from '../store/token-store-validation';
import type { TokenRecord, UserRef } from '../types';

/** A user's chain as the app may show it: no secrets. */
export interface TokenStatus {
  state: TokenRecord['state'];
  expiresAt: number;
  lastRotatedAt: number;
  familyStartedAt: number;
  /** When Atlassian ends the token family: `familyStartedAt` + `familyLifetimeDays`, epoch ms. */
  familyExpiresAt: number;
  /**
   * The family ends within `reconnectNoticeDays` (or has ended) while the chain is not dead yet:
   * ask the user to reconnect Jira before it stops working.
   */
  reconnectSoon: boolean;
  site?: TokenRecord['site'];
  inDoubt?: TokenRecord['inDoubt'];
}

/** What a status needs to know about the family's end: the manager's settings and clock. */
export interface FamilyEnd {
  now: number;
  familyLifetimeMs: number;
  reconnectNoticeMs: number;
}

/** Options of a status listing. */
export interface ListStatusesOptions {
  /** The `cursor` of the previous page; none for the first page. */
  cursor?: string;
  /** About how many users per page (a hint, see `TokenStore.listTenant`). Default 100. */
  limit?: number;
}

/** One page of users and their chains' states. */
export interface StatusPage {
  users: { user: UserRef; status: TokenStatus }[];
  /** Pass it back as `cursor` for the next page; `undefined` once the listing is complete. */
  cursor?: string;
}

/** The default page size of a status listing. */
export const DEFAULT_STATUS_PAGE = 100;

/** The status of a record: its metadata, without the ciphertext. */
export function statusOf(record: TokenRecord, end: FamilyEnd): TokenStatus {
  const { state, expiresAt, lastRotatedAt, familyStartedAt, site, inDoubt } = record;
  const familyExpiresAt = familyStartedAt + end.familyLifetimeMs;
  const reconnectSoon =
    state !== 'reauthorization_required' && end.now >= familyExpiresAt - end.reconnectNoticeMs;
  return { state, expiresAt, lastRotatedAt, familyStartedAt, familyExpiresAt, reconnectSoon, site, inDoubt };
}

/** One page of a tenant's users, or of every user when `clientKey` is `undefined`. */
export async function listStatuses(
  store: TokenStore,
  clientKey: string | undefined,
  end: FamilyEnd,
  options: ListStatusesOptions = {},
): Promise<StatusPage> {
  const { cursor, limit = DEFAULT_STATUS_PAGE } = options;
  let page: StoredPage;
  if (clientKey === undefined) {
    if (!store.listAll) throw new TypeError('This token store cannot list its records (no listAll)');
    page = await store.listAll(cursor, limit);
  } else {
    assertClientKey(clientKey);
    if (!store.listTenant)
      throw new TypeError("This token store cannot list a tenant's records (no listTenant)");
    page = await store.listTenant(clientKey, cursor, limit);
  }
  return {
    users: page.records.map(({ user, record }) => ({ user, status: statusOf(record, end) })),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  };
}
