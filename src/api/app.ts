// The HTTP API's Express application. It stays thin: webhook intake verifies, parses, maps and
// signals, and decides no pipeline policy; health and readiness for operators (metrics are served
// on a listener of their own, src/api/start.ts).
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import type { PlaneDirectory } from '../tracker/plane-directory';
import type { Logger } from '../util/logger';
import { createMetrics, type ApiMetrics } from './metrics';
import { createWebhookRouter } from './webhooks/router';
import { giteaSource, planeSource } from './webhooks/sources';

export interface ApiDependencies {
  readonly client: Client;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly planeDirectory: PlaneDirectory;
  readonly metrics?: ApiMetrics;
}

export function createApp(deps: ApiDependencies): Express {
  const app = express();
  const metrics = deps.metrics ?? createMetrics();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready when Temporal answers: without it no webhook can become a signal.
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.client.withDeadline(Date.now() + 3000, () => deps.client.connection.workflowService.getSystemInfo({}));
      res.json({ status: 'ready', namespace: deps.config.env.TEMPORAL_NAMESPACE });
    } catch (err) {
      deps.logger.warn('readiness check failed', { err });
      res.status(503).json({ status: 'unavailable', reason: 'Temporal is not reachable' });
    }
  });

  app.use(
    '/webhooks',
    createWebhookRouter({
      client: deps.client,
      config: deps.config,
      logger: deps.logger,
      metrics,
      sources: { plane: planeSource(deps.config, deps.planeDirectory), gitea: giteaSource(deps.config) },
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  // The last word on any error: JSON, never Express's HTML page with a stack trace, whatever
  // NODE_ENV says. A client error keeps its 4xx; anything else is ours, logged and counted.
  app.use(
    (
      err: { status?: number; message?: string },
      req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status >= 500) {
        metrics.serverErrors.inc({ route: req.route?.path ? String(req.route.path) : 'unknown' });
        deps.logger.error('request failed', { err, method: req.method, path: req.path.slice(0, 100) });
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res
        .status(status)
        .json({ error: status >= 500 ? 'internal error; it is logged' : (err.message ?? 'bad request').slice(0, 200) });
    },
  );
  return app;
}
