// What a token store indexes: the non-active states, and the score each index sorts a record by.

import type { TokenRecord, TokenState } from '../types';

/** A state a store keeps an index of: every state but `active`. */
export type IndexedState = Exclude<TokenState, 'active'>;

/** The indexed states, in a fixed order. */
export const INDEXED_STATES: readonly IndexedState[] = Object.freeze([
  'rotating',
  'in_doubt',
  'reauthorization_required',
]);

/** Whether `value` names an indexed state. */
export function isIndexedState(value: unknown): value is IndexedState {
  return (INDEXED_STATES as readonly unknown[]).includes(value);
}

/**
 * The score of a record in its state's index: when a lease runs out (`rotating`) or an in-doubt
 * rotation must be recovered by (`in_doubt`), so sweepers see the most urgent records first; `0`
 * for `reauthorization_required`, which has no deadline. A `rotating` record without a lease sorts
 * first, as if its lease had already run out, which is the safe reading.
 */
export function stateIndexScore(record: TokenRecord): number {
  switch (record.state) {
    case 'rotating':
      return record.lease?.until ?? 0;
    case 'in_doubt':
      return record.inDoubt?.deadline ?? 0;
    default:
      return 0;
  }
}
