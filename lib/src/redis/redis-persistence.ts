// The start-up check that the Redis holding tokens keeps them: a restart of a Redis without
// persistence forgets every chain, a rotation lost from a snapshot kills a chain after the leeway,
// and an eviction policy that may drop keys without a TTL drops token records under memory pressure.

import IORedis, { type Cluster, type Redis } from 'ioredis';
import { type Logger, silentLogger } from '../logger';

/** What {@link checkRedisPersistence} found. */
export interface RedisPersistence {
  /** `appendonly yes`: every acknowledged write survives a restart (with `appendfsync always`). */
  aof: boolean;
  /** RDB snapshots (`save` is set): writes since the last snapshot are lost on a restart. */
  rdb: boolean;
  /** `maxmemory-policy`, e.g. `noeviction`; `undefined` when Redis would not say. */
  evictionPolicy?: string;
  /**
   * Whether the eviction policy keeps token records: `noeviction`, or a `volatile-*` policy (token
   * records never carry a TTL, so those policies never pick them). False for `allkeys-*`, and when
   * Redis would not say.
   */
  evictionSafe: boolean;
  /** False when Redis would not say (CONFIG disabled, as on most managed Redis): the booleans are then false. */
  checked: boolean;
  /**
   * A Redis Cluster only: each node's findings, primaries first. The fields above then hold for the
   * whole cluster: `aof`, `evictionSafe` and `checked` only if true of every node, `rdb` if true of
   * any, `evictionPolicy` only if every node has the same.
   */
  nodes?: NodePersistence[];
}

/** One node of a Redis Cluster, as {@link checkRedisPersistence} found it. */
export interface NodePersistence extends Omit<RedisPersistence, 'nodes'> {
  /** `host:port`, as the cluster announces it. */
  address: string;
  role: 'primary' | 'replica';
}

/** Eviction policies that never evict a key without a TTL, i.e. never a token record. */
export function isEvictionSafe(policy: string): boolean {
  return policy === 'noeviction' || policy.startsWith('volatile-');
}

/**
 * Reads `CONFIG GET appendonly`, `save` and `appendfsync`, and warns (`event: 'redis_not_persistent'`)
 * when append-only persistence is off: a restarted Redis would then lose every token, or the
 * rotations since its last snapshot, and with them the users' Jira connections. Token writes are
 * rare, so `appendonly yes` with `appendfsync always` costs little; `everysec` is noted at info.
 * Also reads `maxmemory-policy` and warns (`event: 'redis_eviction_unsafe'`) for an `allkeys-*`
 * policy: under memory pressure Redis would then evict token records, which have no TTL, and their
 * users would have to reconnect Jira. `noeviction` and `volatile-*` are safe.
 * When CONFIG is refused (managed Redis usually renames or forbids it), logs at info that it could
 * not check. Given a Redis Cluster, checks every primary and every replica (a replica becomes a
 * primary on failover), each log line naming its `node`. Never throws: it is advice for the
 * operator, not a reason to fail start-up.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 */
export async function checkRedisPersistence(
  redis: Redis | Cluster,
  logger: Logger = silentLogger,
): Promise<RedisPersistence> {
  if (!isCluster(redis)) return checkNode(redis, logger);
  // Every node holds some tenants' records (primaries) or will on a failover (replicas).
  const nodes: NodePersistence[] = [];
  try {
    await clusterReady(redis);
  } catch (error) {
    logger.info(
      { event: 'redis_persistence_unknown', err: error instanceof Error ? error.message : String(error) },
      'Could not check whether the Redis Cluster persists the Jira tokens (it never became ready); make sure every node runs with appendonly yes',
    );
    return { aof: false, rdb: false, evictionSafe: false, checked: false, nodes };
  }
  for (const node of redis.nodes('master')) {
    const address = `${node.options.host}:${node.options.port}`;
    nodes.push({ ...(await checkNode(node, logger, address)), address, role: 'primary' });
  }
  // The client keeps no connection to replicas (it reads from primaries): a short one each.
  for (const address of await replicaAddresses(redis)) {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      Number(address.slice(address.lastIndexOf(':') + 1)),
    ];
    const replica = new IORedis({
      ...redis.options.redisOptions,
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    replica.on('error', () => undefined);
    try {
      nodes.push({ ...(await checkNode(replica, logger, address)), address, role: 'replica' });
    } finally {
      replica.disconnect();
    }
  }
  const policies = new Set(nodes.map((node) => node.evictionPolicy));
  return {
    aof: nodes.length > 0 && nodes.every((node) => node.aof),
    rdb: nodes.some((node) => node.rdb),
    evictionPolicy: policies.size === 1 ? [...policies][0] : undefined,
    evictionSafe: nodes.length > 0 && nodes.every((node) => node.evictionSafe),
    checked: nodes.length > 0 && nodes.every((node) => node.checked),
    nodes,
  };
}

/** One node's settings, each finding logged with the node's address when it has one. */
async function checkNode(redis: Redis, logger: Logger, node?: string): Promise<RedisPersistence> {
  const where = node === undefined ? {} : { node };
  const name = node === undefined ? 'Redis' : `Redis node ${node}`;
  let appendonly: string, save: string, appendfsync: string, evictionPolicy: string;
  try {
    [appendonly, save, appendfsync, evictionPolicy] = await Promise.all(
      ['appendonly', 'save', 'appendfsync', 'maxmemory-policy'].map((setting) => configGet(redis, setting)),
    );
  } catch (error) {
    logger.info(
      {
        event: 'redis_persistence_unknown',
        ...where,
        err: error instanceof Error ? error.message : String(error),
      },
      `Could not check whether ${name} persists the Jira tokens (CONFIG GET failed); make sure it runs with appendonly yes`,
    );
    return { aof: false, rdb: false, evictionSafe: false, checked: false };
  }
  const aof = appendonly === 'yes';
  const rdb = save.trim() !== '';
  if (!aof) {
    logger.warn(
      { event: 'redis_not_persistent', ...where, aof, rdb },
      rdb
        ? `${name} persists only by RDB snapshots: a restart loses the Jira token rotations since the last snapshot, and users must then reconnect Jira. Set appendonly yes (ideally appendfsync always)`
        : `${name} does not persist: a restart loses every Jira token, and users must then reconnect Jira. Set appendonly yes (ideally appendfsync always)`,
    );
  } else if (appendfsync !== 'always') {
    logger.info(
      { event: 'redis_appendfsync_relaxed', ...where, appendfsync },
      `${name} appends with appendfsync ${appendfsync}: a crash can lose the last token rotations; appendfsync always is cheap here, token writes are rare`,
    );
  }
  const evictionSafe = isEvictionSafe(evictionPolicy);
  if (!evictionSafe) {
    logger.warn(
      { event: 'redis_eviction_unsafe', ...where, evictionPolicy },
      `${name} evicts with maxmemory-policy ${evictionPolicy}: under memory pressure it drops Jira token records (they have no TTL), and users must then reconnect Jira. Set maxmemory-policy noeviction (or a volatile-* policy)`,
    );
  }
  return { aof, rdb, evictionPolicy, evictionSafe, checked: true };
}

/** `host:port` of every replica, from `CLUSTER SLOTS` (each slot range: primary, then replicas). */
async function replicaAddresses(cluster: Cluster): Promise<string[]> {
  const addresses = new Set<string>();
  let slots: unknown;
  try {
    slots = await cluster.cluster('SLOTS');
  } catch {
    return [];
  }
  for (const range of Array.isArray(slots) ? slots : []) {
    if (!Array.isArray(range)) continue;
    for (const node of range.slice(3)) {
      if (Array.isArray(node) && typeof node[0] === 'string' && typeof node[1] === 'number')
        addresses.add(`${node[0]}:${node[1]}`);
    }
  }
  return [...addresses];
}

function isCluster(redis: Redis | Cluster): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/** Resolves once the cluster client knows its nodes (it learns them from the first node it reaches). */
function clusterReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('Redis Cluster not ready within 10 s')), 10_000);
    const onReady = (): void => done();
    const onEnd = (): void => done(new Error('Redis Cluster connection ended'));
    const done = (error?: Error): void => {
      clearTimeout(timer);
      cluster.off('ready', onReady);
      cluster.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    cluster.once('ready', onReady);
    cluster.once('end', onEnd);
  });
}

/** One `CONFIG GET` value; throws when the reply is not the `[name, value]` pair it should be. */
async function configGet(redis: Redis, name: string): Promise<string> {
  const reply: unknown = await redis.config('GET', name);
  if (!Array.isArray(reply) || reply[0] !== name || typeof reply[1] !== 'string') {
    throw new Error(`CONFIG GET ${name} gave no value`);
  }
  return reply[1];
}
