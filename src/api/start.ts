// Starting the HTTP API (webhooks, health, metrics) and its intake journal on a client. Used by the API entry
// point and npm start; it never loads the worker.
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { planeDirectoryFromConfig } from '../tracker/from-config';
import type { Logger } from '../util/logger';
import { createApp } from './app';
import { openIntake } from './intake';
import { listenMetrics as listenRegistry } from '../util/metrics-listener';
import { createMetrics, type ApiMetrics } from './metrics';
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
  const metrics = createMetrics();
  const intake = openIntake({
    client,
    config,
    logger: apiLogger,
    metrics,
    planeDirectory: planeDirectoryFromConfig(config),
  });
  const app = createApp({ client, config, logger: apiLogger, metrics, intake });
  const closers: (() => Promise<void>)[] = [() => intake.close()];
  const close = async (): Promise<void> => {
    for (const step of closers.reverse()) await step();
  };
  try {
    const metricsServer = await listenMetrics(metrics, config.env.ORCH_METRICS_HOST, config.env.ORCH_METRICS_PORT);
    closers.push(() => metricsServer.close());
    const server = await listen(app, config.env.ORCH_API_HOST, config.env.ORCH_API_PORT);
    closers.push(() => server.close());
    logger.info('api listening', { url: server.url, metrics: `${metricsServer.url}/metrics` });
    return { url: server.url, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The API's metrics on a listener of their own (loopback by default), never the public port. */
export function listenMetrics(metrics: ApiMetrics, host: string, port: number): Promise<RunningServer> {
  return listenRegistry(metrics.registry, host, port);
}
