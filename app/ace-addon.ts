// ACE (atlassian-connect-express) on our Express app: with our store adapters and the URLs this
// process serves. It reads the descriptor at once and adds its /atlassian-connect.json and
// /installed routes on the next tick, which `ready` waits for.

import ace, { type AddOn } from 'atlassian-connect-express';
import type { Express } from 'express';
import { ACE_STORE_ADAPTERS } from './ace-store';
import { type AppLogger, aceLogger } from './logger';
import { PATHS } from './paths';
import { registerAceStores } from './register-ace-stores';

export interface AceAddonSettings {
  localBaseUrl: string;
  hostScriptUrl: string;
  /** ACE's records in this Redis; in memory without one. */
  redisUrl?: string;
  keyPrefix: string;
  logger: AppLogger;
}

export interface AceAddon {
  addon: AddOn;
  /** Resolves once ACE has added its routes. */
  ready: Promise<void>;
  /** Takes back the process-wide listener ACE added (one per instance). */
  release(): void;
}

/** Creates ACE's add-on on `app`; its config section is the one of `app.get('env')`. */
export function createAceAddon(app: Express, settings: AceAddonSettings): AceAddon {
  registerAceStores();
  const before = new Set(process.listeners('unhandledRejection'));
  let configured!: () => void;
  const ready = new Promise<void>((resolve) => (configured = resolve));
  const addon = ace(
    app,
    {
      config: {
        [app.get('env')]: {
          localBaseUrl: settings.localBaseUrl,
          hostScriptUrl: settings.hostScriptUrl,
          store: settings.redisUrl
            ? { adapter: ACE_STORE_ADAPTERS.redis, url: settings.redisUrl, keyPrefix: settings.keyPrefix }
            : { adapter: ACE_STORE_ADAPTERS.memory },
        },
      },
    },
    aceLogger(settings.logger),
    { descriptorFilename: PATHS.descriptor, configFileName: PATHS.aceConfig },
    () => configured(),
  );
  // ACE has just read the descriptor from this absolute path; on the next tick it also makes it
  // the descriptor's route path, which must be /atlassian-connect.json.
  (addon as AddOn & { descriptorFilename: string }).descriptorFilename = ace.DESCRIPTOR_FILENAME;
  // ACE adds a process-wide unhandledRejection listener per instance; release() takes it back.
  const added = process.listeners('unhandledRejection').filter((listener) => !before.has(listener));
  return {
    addon,
    ready,
    release: () => {
      for (const listener of added) process.off('unhandledRejection', listener);
    },
  };
}
