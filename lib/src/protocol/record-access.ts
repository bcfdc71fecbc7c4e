// Reading and writing records at the boundary: store failures become typed errors, ciphertexts
// are opened and sealed here, and nothing below the manager sees a raw store exception.

import { DecryptionError, type TokenCipher } from '../store/token-cipher';
import { JiraTokenError, NotDurableError, RecordUnreadableError, StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { ReportedStates } from './reported-states';
import type { TokenStore } from '../store/token-store';
import type { AccessToken, RecordVersion, TokenRecord, TokenSecrets, UserRef } from '../types';
import { userId } from '../store/user-key';

/** A record as read, with its secrets decrypted unless the chain is dead. */
export interface OpenRecord {
  record: TokenRecord;
  secrets?: TokenSecrets;
}

/**
 * Why a write's result is not known to have landed for good: the store failed (Redis cut, a
 * command timeout: it may or may not have written), or it wrote but fewer replicas than asked
 * acknowledged it (`WAIT`, invariant 15), so a failover may still lose it. Either way the writer
 * keeps what it wrote and writes it again.
 */
export type UnconfirmedReason = 'store_unavailable' | 'not_durable';

/** How a compare-and-set ended, for a writer that must not lose what it wrote. */
export type WriteOutcome =
  | { kind: 'written' }
  /** Another writer got there first: the record is not ours to write. */
  | { kind: 'lost' }
  | { kind: 'unconfirmed'; reason: UnconfirmedReason; error: StoreUnavailableError };

/** The token a record holds, as the cache and callers want it. */
export function tokenOf(record: TokenRecord, accessToken: string): AccessToken & { lastRotatedAt: number } {
  return {
    accessToken,
    expiresAt: record.expiresAt,
    cloudId: record.site?.cloudId,
    lastRotatedAt: record.lastRotatedAt,
  };
}

export class RecordAccess {
  /** Unreadable record versions already logged at error: every request meets them. */
  private readonly unreadable = new ReportedStates();

  constructor(
    private readonly store: TokenStore,
    private readonly cipher: TokenCipher,
    private readonly logger: Logger,
    private readonly onRead: () => void,
  ) {}

  /** The raw record, without decrypting. */
  async get(user: UserRef): Promise<TokenRecord | null> {
    this.onRead();
    return guard(() => this.store.get(user));
  }

  /** The record with its secrets, or null when there is none. */
  async read(user: UserRef): Promise<OpenRecord | null> {
    const record = await this.get(user);
    if (!record) return null;
    if (record.state === 'reauthorization_required') return { record };
    try {
      return { record, secrets: this.cipher.decrypt(user, record.generation, record.ciphertext) };
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      const first = this.unreadable.firstTime(`${userId(user)}:${record.generation}:${record.version}`);
      this.logger[first ? 'error' : 'debug'](
        {
          event: 'record_unreadable',
          clientKey: user.clientKey,
          accountId: user.accountId,
          reason: error.message,
        },
        'A stored Jira token record cannot be decrypted',
      );
      throw new RecordUnreadableError(error);
    }
  }

  /** Compare-and-set; false when another writer got there first. */
  async write(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<boolean> {
    const version = expected ? { generation: expected.generation, version: expected.version } : null;
    return guard(() => this.store.compareAndSet(user, version, record));
  }

  /**
   * Compare-and-set that reports a store failure as an outcome instead of throwing it, for a
   * writer that keeps the record and writes it again (a settlement after the server rotated).
   */
  async tryWrite(user: UserRef, expected: RecordVersion | null, record: TokenRecord): Promise<WriteOutcome> {
    return outcomeOf(async () => ((await this.write(user, expected, record)) ? 'written' : 'lost'));
  }

  /**
   * Waits for the replicas to hold the user's record as this process last wrote it, for a writer
   * that found its own write in place after a write it could not confirm: `written` once they do.
   */
  async confirm(user: UserRef): Promise<WriteOutcome> {
    return outcomeOf(async () => {
      await guard(async () => this.store.waitForReplicas?.(user));
      return 'written';
    });
  }

  async delete(user: UserRef): Promise<boolean> {
    return guard(() => this.store.delete(user));
  }

  async deleteTenant(clientKey: string): Promise<number> {
    return guard(() => this.store.deleteTenant(clientKey));
  }

  seal(user: UserRef, generation: string, secrets: TokenSecrets): string {
    return this.cipher.encrypt(user, generation, secrets);
  }
}

/** A write's ending as an outcome: a store failure is `unconfirmed`, with why. */
async function outcomeOf(write: () => Promise<'written' | 'lost'>): Promise<WriteOutcome> {
  try {
    return { kind: await write() };
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    const reason = error instanceof NotDurableError ? 'not_durable' : 'store_unavailable';
    return { kind: 'unconfirmed', reason, error };
  }
}

/**
 * Any store failure becomes a StoreUnavailableError (a 503), typed errors pass through. A
 * TypeError is wrapped too: the manager checked its arguments already, so it is the store's own
 * failure (a fetch-based store's "fetch failed", a bug), and the cause is kept for the logs.
 */
async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof JiraTokenError) throw error;
    throw new StoreUnavailableError('The token store failed', 5, error);
  }
}
