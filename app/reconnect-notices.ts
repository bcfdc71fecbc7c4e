// "Reconnect Jira soon": a token family ends a year after consent whatever keep-alive does, so
// the macro asks the user to reconnect in the family's last days instead of failing one day.
// The answer only changes with the token (a rotation or a new consent), so each process asks the
// store once per access token, not once per page, and the macro's hot path stays free of I/O.

import { type Logger, type TokenManager, type UserRef, fingerprint } from 'jira-token-rotation';

/** What the macro shows: the day (UTC, `YYYY-MM-DD`) the user's Jira connection ends. */
export interface ReconnectNotice {
  reconnectBy: string;
}

interface Entry {
  /** The fingerprint of the access token the answer was read for (never the token itself). */
  token: string;
  notice?: ReconnectNotice;
}

/** Per user: whether to show the notice, as of the user's current access token. */
export class ReconnectNotices {
  private readonly byUser = new Map<string, Entry>();

  constructor(
    private readonly tokens: Pick<TokenManager, 'status'>,
    private readonly logger: Logger,
    private readonly maxEntries = 10_000,
  ) {}

  /** The notice for a user whose request carries `accessToken`. Never rejects. */
  async of(user: UserRef, accessToken: string): Promise<ReconnectNotice | undefined> {
    // JSON of the pair: injective whatever characters the ids hold.
    const id = JSON.stringify([user.clientKey, user.accountId]);
    const token = fingerprint(accessToken);
    const known = this.byUser.get(id);
    if (known?.token === token) return known.notice;
    let notice: ReconnectNotice | undefined;
    try {
      const status = await this.tokens.status(user);
      if (status?.reconnectSoon)
        notice = { reconnectBy: new Date(status.familyExpiresAt).toISOString().slice(0, 10) };
    } catch (error) {
      // The notice is a courtesy: a store failure costs the notice, not the page; asked again next time.
      this.logger.debug(
        { event: 'reconnect_notice_unavailable', err: error instanceof Error ? error.name : 'error' },
        'Could not read the Jira connection status',
      );
      return undefined;
    }
    if (this.byUser.size >= this.maxEntries) this.byUser.clear();
    this.byUser.set(id, { token, notice });
    return notice;
  }
}
