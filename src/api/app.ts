// The HTTP API's Express application. It stays thin: health and readiness here; webhook intake
// verifies, parses, maps and signals, and decides no pipeline policy.
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from '../util/logger';

export interface ApiDependencies {
  readonly client: Client;
  readonly namespace: string;
  readonly logger: Logger;
}

export function createApp(deps: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready when Temporal answers: without it no webhook can become a signal.
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.client.connection.workflowService.getSystemInfo({});
      res.json({ status: 'ready', namespace: deps.namespace });
    } catch (err) {
      deps.logger.warn('readiness check failed', { err });
      res.status(503).json({ status: 'unavailable', reason: 'Temporal is not reachable' });
    }
  });

  return app;
}
