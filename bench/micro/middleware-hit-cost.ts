// In-process cost of the token middleware on a process-cache hit, without HTTP: nanoseconds and
// heap bytes per call. Deterministic enough for before/after comparisons on a busy machine
// (unlike req/s): it runs one synchronous loop of cache hits, with the young generation made
// large enough that no scavenge runs during a measured batch.
//
//   npm run build && node dist/bench/micro/middleware-hit-cost.js [calls per batch] [batches]
//
// Heap bytes per call are only reported when the young generation can hold a whole batch, i.e.
// under `node --min-semi-space-size=256 --max-semi-space-size=256`; otherwise they are null.
// For instruction counts, which a busy machine does not disturb, run it under
// `valgrind --tool=callgrind` with two batch counts and divide the difference by the extra calls.

import { getHeapSpaceStatistics } from 'node:v8';
import type { Request, RequestHandler, Response } from 'express';
import { createTokenManager } from 'jira-token-rotation';
import { aceUserResolver } from 'jira-token-rotation/ace';

const BATCH = Number(process.argv[2] ?? 100_000);
const BATCHES = Number(process.argv[3] ?? 15);
/** Young-generation room needed to count a batch's bytes without a scavenge in between. */
const ROOM_PER_CALL = 2_000;

async function main(): Promise<void> {
  const manager = createTokenManager({
    clientId: 'bench-client',
    clientSecret: 'bench-secret',
    encryptionKey: Buffer.alloc(32, 7).toString('base64'),
    recoveryIntervalMs: 0,
    // No refresh-ahead: the token stays fresh and every call is a plain cache hit.
    refreshAheadMs: 0,
  });
  const user = { clientKey: 'bench-tenant', accountId: '557058:bench-user' };
  await manager.save(
    user,
    { access_token: 'a'.repeat(900), refresh_token: 'r'.repeat(60), expires_in: 3600 },
    { cloudId: '11111111-2222-3333-4444-555555555555', url: 'https://bench.atlassian.net' },
  );
  await manager.getAccessToken(user);
  const middleware: RequestHandler = manager.middleware({ resolveUser: aceUserResolver });
  // What ACE's addon.authenticate() leaves on the request; the ACE resolver reads it.
  const req = { context: { clientKey: user.clientKey, userAccountId: user.accountId } } as unknown as Request;
  const res = {} as Response;
  let nexts = 0;
  const next = (): void => void (nexts += 1);

  const batch = (): { ns: number; bytes: number } => {
    const heapBefore = process.memoryUsage().heapUsed;
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) middleware(req, res, next);
    const ns = Number(process.hrtime.bigint() - start);
    return { ns: ns / BATCH, bytes: (process.memoryUsage().heapUsed - heapBefore) / BATCH };
  };
  batch(); // warm-up: let the JIT optimize the path
  const runs = Array.from({ length: BATCHES }, batch);
  if (nexts !== BATCH * (BATCHES + 1) || !(req as { jira?: unknown }).jira) {
    throw new Error('the middleware did not serve every call from the cache');
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  const roomy = (newSpace?.space_size ?? 0) >= BATCH * ROOM_PER_CALL;
  const out = {
    nsPerCall: Math.round(median(runs.map((r) => r.ns))),
    heapBytesPerCall: roomy ? Math.round(median(runs.map((r) => r.bytes))) : null,
    storeReads: manager.stats().storeReads,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await manager.close();
}

void main();
