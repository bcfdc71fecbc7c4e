// The Lua scripts of RedisTokenStore: each touches the keys of one Cluster slot only, either one
// tenant's (records, tenant set) or one index shard's (`{idx:<shard>}`).

import type { Cluster, Redis } from 'ioredis';
import { INDEXED_STATES } from '../store/token-store-indexes';

/**
 * Compare-and-set of one record (invariant 2: never backwards).
 * KEYS: record hash, tenant set. ARGV: mode (`create` | `update`), expected generation, expected
 * version, new generation, new version, new state, record JSON, encoded account id.
 * Returns 1 when it wrote, 0 when the stored record did not match.
 */
const COMPARE_AND_SET = `
local recordKey, tenantKey = KEYS[1], KEYS[2]
local mode, expectedGeneration, expectedVersion = ARGV[1], ARGV[2], ARGV[3]

if mode == 'create' then
  -- A first consent writes only where no record exists; any record, whatever its state, wins.
  if redis.call('EXISTS', recordKey) == 1 then return 0 end
else
  -- Any other write needs the exact generation and version it read. A missing record gives two
  -- nils, which never match: a CAS against a deleted record fails, so nothing is resurrected.
  local current = redis.call('HMGET', recordKey, 'generation', 'version')
  if current[1] ~= expectedGeneration or current[2] ~= expectedVersion then return 0 end
end

-- The metadata fields sit beside the JSON so this script compares them without decoding JSON.
redis.call('HSET', recordKey, 'generation', ARGV[4], 'version', ARGV[5], 'state', ARGV[6], 'record', ARGV[7])
-- The tenant set is what an uninstall walks to purge the tenant.
redis.call('SADD', tenantKey, ARGV[8])
return 1
`;

/**
 * Deletes one record.
 * KEYS: record hash, tenant set. ARGV: encoded account id. Returns 1 when there was a record.
 */
const DELETE = `
local deleted = redis.call('DEL', KEYS[1])
-- Also forget the user in the tenant set, so a later purge does not count a record twice.
redis.call('SREM', KEYS[2], ARGV[1])
return deleted
`;

/**
 * Deletes every record of one tenant.
 * KEYS: tenant set. ARGV: the record key prefix of that tenant (ending in ':u:').
 * Returns { number of records deleted, every member of the tenant set... }.
 *
 * The record keys are built here rather than passed in KEYS, because only the tenant set knows
 * them. They carry the same hash tag as the set, so they live in its slot, which is what Redis
 * Cluster requires of the keys a script touches. The script runs in one step: a tenant of tens of
 * thousands of users blocks Redis for some milliseconds, which an uninstall can afford.
 */
const DELETE_TENANT = `
local members = redis.call('SMEMBERS', KEYS[1])
local deleted = 0
for _, member in ipairs(members) do
  -- DEL answers 1 only for a record that existed, so the count is of records, not set members.
  deleted = deleted + redis.call('DEL', ARGV[1] .. member)
end
redis.call('DEL', KEYS[1])
-- The members go back to the caller, which removes them from the index shard (another slot).
local result = { deleted }
for _, member in ipairs(members) do result[#result + 1] = member end
return result
`;

/**
 * The index upkeep after a write, in one round trip instead of one command per index.
 * KEYS: the state indexes (rotating, in_doubt, reauthorization_required, in that order), then the
 * idle index, all of the tenant's shard: they carry its `{idx:<shard>}` hash tag, so they share one
 * Cluster slot, and none is a record key (a record sits in its tenant's slot, so the
 * compare-and-set cannot do this itself).
 * ARGV: member, the 1-based position in KEYS of the new state's index (0 for `active`), its score,
 * the idle score. Returns how many entries of other states it removed.
 */
const INDEX_WRITTEN = `
local member, own, score = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local removed = 0
for i = 1, #KEYS - 1 do
  -- Re-adding the new state's entry repairs a removal by a sweeper between the first add and the
  -- write, which saw the old state.
  if i == own then redis.call('ZADD', KEYS[i], score, member)
  else removed = removed + redis.call('ZREM', KEYS[i], member) end
end
redis.call('ZADD', KEYS[#KEYS], ARGV[4], member)
return removed
`;

/** The ioredis command names of the scripts; namespaced, because they are defined on a shared client. */
export const SCRIPT_COMMANDS = Object.freeze({
  compareAndSet: 'jiraTokenStoreCompareAndSet',
  delete: 'jiraTokenStoreDelete',
  deleteTenant: 'jiraTokenStoreDeleteTenant',
  indexWritten: 'jiraTokenStoreIndexWritten',
} as const);

/** The scripts, callable. ioredis runs each by EVALSHA and loads it on NOSCRIPT. */
export interface TokenStoreScripts {
  compareAndSet(
    keys: { record: string; tenant: string },
    args: {
      mode: 'create' | 'update';
      expectedGeneration: string;
      expectedVersion: string;
      generation: string;
      version: string;
      state: string;
      json: string;
      member: string;
    },
  ): Promise<boolean>;
  delete(keys: { record: string; tenant: string }, member: string): Promise<boolean>;
  deleteTenant(tenantKey: string, recordKeyPrefix: string): Promise<{ deleted: number; members: string[] }>;
  indexWritten(
    keys: { states: readonly string[]; idle: string },
    args: { member: string; own: number; score: number; idleScore: number },
  ): Promise<number>;
}

type ScriptFn = (...args: string[]) => Promise<unknown>;

/**
 * Defines the scripts on `redis` (idempotent: a second store on the same client redefines the same
 * source) and returns typed wrappers around them.
 */
export function defineTokenStoreScripts(redis: Redis | Cluster): TokenStoreScripts {
  redis.defineCommand(SCRIPT_COMMANDS.compareAndSet, { numberOfKeys: 2, lua: COMPARE_AND_SET });
  redis.defineCommand(SCRIPT_COMMANDS.delete, { numberOfKeys: 2, lua: DELETE });
  redis.defineCommand(SCRIPT_COMMANDS.deleteTenant, { numberOfKeys: 1, lua: DELETE_TENANT });
  redis.defineCommand(SCRIPT_COMMANDS.indexWritten, {
    numberOfKeys: INDEXED_STATES.length + 1,
    lua: INDEX_WRITTEN,
  });
  // Looked up at each call, not captured here, so a test can stand in for one script.
  const call = (name: string, ...args: string[]): Promise<unknown> =>
    (redis as unknown as Record<string, ScriptFn>)[name](...args);

  return {
    async compareAndSet(keys, a) {
      const written = await call(
        SCRIPT_COMMANDS.compareAndSet,
        keys.record,
        keys.tenant,
        a.mode,
        a.expectedGeneration,
        a.expectedVersion,
        a.generation,
        a.version,
        a.state,
        a.json,
        a.member,
      );
      return written === 1;
    },
    async delete(keys, member) {
      return (await call(SCRIPT_COMMANDS.delete, keys.record, keys.tenant, member)) === 1;
    },
    async deleteTenant(tenantKey, recordKeyPrefix) {
      const [deleted, ...members] = (await call(
        SCRIPT_COMMANDS.deleteTenant,
        tenantKey,
        recordKeyPrefix,
      )) as [number, ...string[]];
      return { deleted, members };
    },
    async indexWritten(keys, a) {
      const removed = await call(
        SCRIPT_COMMANDS.indexWritten,
        ...keys.states,
        keys.idle,
        a.member,
        String(a.own),
        String(a.score),
        String(a.idleScore),
      );
      return Number(removed);
    },
  };
}
