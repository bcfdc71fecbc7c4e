// Test and benchmark controls over HTTP: stats, the sim clock, chaos settings and scripted outcomes.

import express, { type Request, type Response, type Router } from 'express';
import { parseApiAnswers } from '../api-answers';
import { parseChaosPatch, parseOutcomes } from '../chaos';
import type { SimContext } from '../context';

function badRequest(res: Response, message: string): void {
  res.status(400).json({ error: 'invalid_request', message });
}

/** Runs `apply` on the JSON body; a `RangeError` (a validation failure) becomes a 400. */
function withBody(apply: (body: Record<string, unknown>, res: Response) => void) {
  return (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return badRequest(res, 'The body must be a JSON object.');
    }
    try {
      apply(body as Record<string, unknown>, res);
    } catch (err) {
      if (err instanceof RangeError) return badRequest(res, err.message);
      throw err;
    }
  };
}

function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number`);
  return value;
}

/** The control endpoints. They are not part of Atlassian's API. */
export function controlRoutes(ctx: SimContext): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });

  router.get('/stats', (_req, res) => res.json(ctx.snapshot()));
  router.post('/stats/reset', (_req, res) => {
    ctx.stats.reset();
    res.json(ctx.snapshot());
  });

  router.get('/clock', (_req, res) => res.json({ now: ctx.clock.now() }));
  router.post(
    '/clock/advance',
    json,
    withBody((body, res) => {
      ctx.clock.advance(finiteNumber(body.ms, 'ms'));
      res.json({ now: ctx.clock.now() });
    }),
  );
  router.post(
    '/clock/set',
    json,
    withBody((body, res) => {
      ctx.clock.set(finiteNumber(body.now, 'now'));
      res.json({ now: ctx.clock.now() });
    }),
  );

  router.get('/chaos', (_req, res) => res.json(ctx.chaos.settings()));
  router.post(
    '/chaos',
    json,
    withBody((body, res) => res.json(ctx.chaos.update(parseChaosPatch(body)))),
  );
  router.post(
    '/script',
    json,
    withBody((body, res) => res.json({ pending: ctx.chaos.enqueue(parseOutcomes(body.outcomes)) })),
  );
  router.post(
    '/api-script',
    json,
    withBody((body, res) => res.json({ pending: ctx.apiScript.enqueue(parseApiAnswers(body.answers)) })),
  );

  return router;
}
