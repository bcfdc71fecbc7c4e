// Registers our ACE store adapters under the names config.json uses. ACE's registry is global to
// the process, and ACE builds one adapter per `ace()` call from the `store` options.

import ace from 'atlassian-connect-express';
import type { Logger } from 'jira-token-rotation';
import { ACE_STORE_ADAPTERS } from './ace-store';
import { MemoryAceStore } from './memory-ace-store';
import { RedisAceStore } from './redis-ace-store';
import { createRedisClient } from './redis';

/** The `store` options of config.json for `jtr-redis`. */
interface RedisStoreOptions {
  url?: unknown;
  keyPrefix?: unknown;
}

let registered = false;

/** Registers `jtr-memory` and `jtr-redis` (`{url, keyPrefix}`), once per process. */
export function registerAceStores(): void {
  if (registered) return;
  registered = true;
  ace.store.register(ACE_STORE_ADAPTERS.memory, () => new MemoryAceStore() as never);
  ace.store.register(ACE_STORE_ADAPTERS.redis, (aceLog, opts) => {
    const { url, keyPrefix } = (opts ?? {}) as RedisStoreOptions;
    if (typeof url !== 'string' || !/^rediss?:/.test(url)) {
      throw new TypeError('config.json: store.url of the jtr-redis adapter must be a Redis URL');
    }
    const redis = createRedisClient(url, 'jtr-ace', consoleAsLogger(aceLog));
    const prefix = typeof keyPrefix === 'string' ? keyPrefix : 'jtr:';
    return new RedisAceStore({ redis, keyPrefix: prefix }) as never;
  });
}

/** The logger ACE hands to adapters is console-shaped; ours take (fields, message). */
function consoleAsLogger(log: Console): Logger {
  const at = (level: 'info' | 'warn' | 'error') => (obj: Record<string, unknown>, msg?: string) =>
    log[level](msg ?? '', obj);
  return { debug: () => undefined, info: at('info'), warn: at('warn'), error: at('error') };
}
