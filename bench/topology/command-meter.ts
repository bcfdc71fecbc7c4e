// Redis commands run on each data node of a topology between two snapshots (INFO commandstats),
// without the traffic that is not the app's: our own probes, replication and cluster upkeep, and
// the sentinels' hello messages, which are PUBLISH commands like the app's notices.

import IORedis, { type Redis } from 'ioredis';
import { type CommandCalls, addCalls, commandDelta } from '../redis/redis-probe';

/** Upkeep no rotation causes: replication acks, cluster slot refreshes, sentinel checks, our markers. */
const UPKEEP =
  /^(replconf|psync|sync|role|multi|exec|cluster\|.*|sentinel\|.*|command\|.*|client\|.*|subscribe|unsubscribe|psubscribe|punsubscribe)$/;

/** Sentinels announce themselves on this channel of every node they watch, every 2 s each. */
const HELLO_CHANNEL = '__sentinel__:hello';

export interface NodeCommands {
  port: number;
  role: 'primary' | 'replica';
  /** The app's commands (replicas: what the replication stream applied), by command. */
  calls: CommandCalls;
  /** Left out of `calls`: upkeep, and the sentinels' hello PUBLISHes. */
  upkeep: CommandCalls;
}

/** One node: a client for INFO and a subscriber that counts hellos up to each snapshot. */
class NodeMeter {
  private hellos = 0;
  /** Waiting snapshots, each resolved with the hello count when its marker arrives. */
  private readonly markers: Array<(hellos: number) => void> = [];
  private readonly marker: string;

  private constructor(
    readonly port: number,
    readonly role: 'primary' | 'replica',
    private readonly client: Redis,
    private readonly subscriber: Redis,
  ) {
    this.marker = `jtrbench:meter:${port}`;
  }

  static async open(port: number): Promise<NodeMeter> {
    const options = { host: '127.0.0.1', port, connectionName: 'bench-meter', maxRetriesPerRequest: 1 };
    const client = new IORedis(options);
    const subscriber = new IORedis(options);
    const role = ((await client.call('ROLE')) as unknown[])[0] === 'master' ? 'primary' : 'replica';
    const meter = new NodeMeter(port, role, client, subscriber);
    subscriber.on('message', (channel: string) => meter.onMessage(channel));
    await subscriber.subscribe(HELLO_CHANNEL, meter.marker);
    return meter;
  }

  private onMessage(channel: string): void {
    if (channel === HELLO_CHANNEL) this.hellos += 1;
    else if (channel === this.marker) this.markers.shift()?.(this.hellos);
  }

  /**
   * INFO commandstats and a PUBLISH to our marker channel in one transaction, so the marker reaches
   * the subscriber exactly where INFO was taken: the hellos before it are those INFO counted.
   */
  async snapshot(): Promise<{ calls: CommandCalls; hellos: number }> {
    const seen = new Promise<number>((resolve) => this.markers.push(resolve));
    const replies = await this.client.multi().info('commandstats').publish(this.marker, 'x').exec();
    const info = String(replies?.[0]?.[1] ?? '');
    const calls: CommandCalls = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
    return { calls, hellos: await seen };
  }

  async close(): Promise<void> {
    await Promise.all([this.client.quit(), this.subscriber.quit()]).catch(() => undefined);
  }
}

type Snapshot = Array<{ calls: CommandCalls; hellos: number }>;

/**
 * Counts commands on `ports` from {@link start} to {@link stop}. `publishReplicates`: a replica
 * applies its primary's PUBLISHes (Redis outside Cluster mode), our primary's marker among them.
 */
export class CommandMeter {
  private before: Snapshot = [];

  private constructor(
    private readonly nodes: NodeMeter[],
    private readonly publishReplicates: boolean,
  ) {}

  static async open(ports: number[], publishReplicates: boolean): Promise<CommandMeter> {
    const nodes = await Promise.all(ports.map((port) => NodeMeter.open(port)));
    // Replicas first, then primaries, both times: the primary's first marker reaches each replica
    // inside its window, the second one after it.
    nodes.sort((a, b) => (a.role === b.role ? 0 : a.role === 'replica' ? -1 : 1));
    return new CommandMeter(nodes, publishReplicates);
  }

  async start(): Promise<void> {
    this.before = await this.snapshotAll();
  }

  async stop(): Promise<NodeCommands[]> {
    const after = await this.snapshotAll();
    return this.nodes.map((node, i) => {
      const delta = commandDelta(this.before[i].calls, after[i].calls);
      const calls: CommandCalls = {};
      const upkeep: CommandCalls = {};
      for (const [command, n] of Object.entries(delta)) {
        if (UPKEEP.test(command)) upkeep[command] = n;
        else calls[command] = n;
      }
      // Ours: the first snapshot's marker; on a replica also its primary's, replicated.
      let notApp = after[i].hellos - this.before[i].hellos + 1;
      if (node.role === 'replica' && this.publishReplicates) notApp += 1;
      const publishes = calls.publish ?? 0;
      if (publishes > notApp) calls.publish = publishes - notApp;
      else delete calls.publish;
      return {
        port: node.port,
        role: node.role,
        calls,
        upkeep: addCalls(upkeep, { publish: Math.min(publishes, notApp) }),
      };
    });
  }

  private async snapshotAll(): Promise<Snapshot> {
    const snapshots: Snapshot = [];
    for (const node of this.nodes) snapshots.push(await node.snapshot());
    return snapshots;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }
}
