// The simulator's Express app: every route, then a JSON 404 and an error handler that never echoes input.

import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { SimContext } from './context';
import { authorizeRoutes } from './routes/authorize';
import { connectKeyRoutes } from './routes/connect-keys';
import { controlRoutes } from './routes/control';
import { identityRoutes } from './routes/identity';
import { jiraRoutes } from './routes/jira';
import { personalDataRoutes } from './routes/personal-data';
import { tokenRoutes } from './routes/token';

/**
 * Builds the app. Routers are mounted at the root on purpose: inside them `req.baseUrl` is then the
 * sim's own mount point, which is what every URL the sim builds must start with.
 */
export function createSimApp(ctx: SimContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(authorizeRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use(identityRoutes(ctx));
  app.use(jiraRoutes(ctx));
  app.use(connectKeyRoutes(ctx));
  app.use(personalDataRoutes(ctx));
  app.use(controlRoutes(ctx));
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ code: 404, message: 'Not Found' });
  });
  // Reached by body parser failures outside the token endpoint, and by bugs. Nothing of the
  // request is logged or echoed: it may carry tokens.
  app.use((err: { status?: unknown; type?: unknown }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    res
      .status(status)
      .json({ code: status, message: status === 500 ? 'Internal Server Error' : 'Bad Request' });
  });
  return app;
}
