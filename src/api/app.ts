// The HTTP API's Express application. It stays thin: webhook intake verifies, parses, maps and
// journals (the forwarder signals), and decides no pipeline policy; health and readiness for
// operators (metrics are served on a listener of their own, src/api/start.ts).
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import type { Logger } from '../util/logger';
import type { Intake } from './intake';
import type { ApiMetrics } from './metrics';
import { createWebhookRouter } from './webhooks/router';

export interface ApiDependencies {
  readonly client: Client;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly intake: Intake;
}

/** /readyz asks Temporal itself, briefly: the whole answer stays well under a second. */
const READY_PROBE_MS = 500;

export function createApp(deps: ApiDependencies): Express {
  const app = express();
  const { metrics, intake } = deps;
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready while the journal takes deliveries: with Temporal down they wait in it, nothing is
  // lost, so the API stays in rotation (`degraded`). 503 only when the journal itself fails.
  app.get('/readyz', async (_req, res) => {
    let stats;
    try {
      stats = intake.journal.stats();
    } catch (err) {
      deps.logger.error('readiness check: the intake journal cannot be read', { err });
      res.status(503).json({ status: 'unavailable', reason: 'the intake journal cannot be read' });
      return;
    }
    const temporal = await deps.client
      .withDeadline(Date.now() + READY_PROBE_MS, () => deps.client.connection.workflowService.getSystemInfo({}))
      .then(
        () => 'reachable',
        () => 'unreachable',
      );
    res.json({
      status: temporal === 'reachable' ? 'ready' : 'degraded',
      namespace: deps.config.env.TEMPORAL_NAMESPACE,
      temporal,
      intake: {
        backlog: stats.backlog,
        oldestAgeSeconds: stats.oldestReceivedAt === undefined ? 0 : (Date.now() - stats.oldestReceivedAt) / 1000,
        deadLetters: stats.deadLetters,
      },
    });
  });

  app.use('/webhooks', createWebhookRouter({ config: deps.config, logger: deps.logger, metrics, intake }));

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
