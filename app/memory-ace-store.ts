// ACE's settings in process memory: the sandbox's store (ACE's own memory store needs sqlite3).

import { type AceStore, deserialize, serialize, withoutSecrets } from './ace-store';

/** {@link AceStore} in a Map: `key` → `clientKey` → serialized value. */
export class MemoryAceStore implements AceStore {
  private readonly values = new Map<string, Map<string, string>>();

  async get(key: string, clientKey = ''): Promise<unknown> {
    return deserialize(this.values.get(key)?.get(clientKey));
  }

  async set(key: string, value: unknown, clientKey = ''): Promise<unknown> {
    let byClient = this.values.get(key);
    if (!byClient) this.values.set(key, (byClient = new Map()));
    byClient.set(clientKey, serialize(value));
    return this.get(key, clientKey);
  }

  async del(key: string, clientKey = ''): Promise<void> {
    this.values.get(key)?.delete(clientKey);
  }

  async saveInstallation(
    value: Record<string, unknown>,
    clientKey: string,
  ): Promise<Record<string, unknown>> {
    await this.set('clientInfo', value, clientKey);
    return withoutSecrets(value);
  }

  async getAllClientInfos(): Promise<unknown[]> {
    return [...(this.values.get('clientInfo')?.values() ?? [])].map(deserialize);
  }

  isMemoryStore(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.values.clear();
  }
}
