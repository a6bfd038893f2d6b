// Starting the HTTP API (webhooks, health, metrics) on a connected client. Used by the API entry
// point and npm start; it never loads the worker.
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { planeDirectoryFromConfig } from '../tracker/from-config';
import type { Logger } from '../util/logger';
import { createApp } from './app';
import { listen, type RunningServer } from './server';

export async function startApi(config: AppConfig, client: Client, logger: Logger): Promise<RunningServer> {
  const apiLogger = logger.child({ component: 'api' });
  for (const [source, secret] of [
    ['plane', config.env.ORCH_PLANE_WEBHOOK_SECRET],
    ['gitea', config.env.ORCH_GITEA_WEBHOOK_SECRET],
  ] as const) {
    if (!secret)
      apiLogger.warn(`no ${source} webhook secret configured: every ${source} delivery will be rejected with 401`);
  }
  const app = createApp({ client, config, logger: apiLogger, planeDirectory: planeDirectoryFromConfig(config) });
  const server = await listen(app, config.env.ORCH_API_HOST, config.env.ORCH_API_PORT);
  logger.info('api listening', { url: server.url });
  return server;
}
