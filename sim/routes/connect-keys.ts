// GET /connect-keys/:kid: the install-key CDN that ACE reads through CONNECT_KEYS_CDN_URL.

import express, { type Request, type Response, type Router } from 'express';
import type { SimContext } from '../context';

/** The CDN serves the PEM public key of a known key id, as text. */
export function connectKeyRoutes(ctx: SimContext): Router {
  const router = express.Router();
  router.get('/connect-keys/:kid', (req: Request, res: Response) => {
    if (req.params.kid !== ctx.installKid) return res.status(404).type('text/plain').send('Not Found');
    res.type('text/plain').send(ctx.installKeys().publicKeyPem);
  });
  return router;
}
