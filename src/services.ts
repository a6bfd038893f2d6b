// Starting the orchestrator's long-running parts: the worker and the HTTP API. Used by the
// separate entry points (production containers) and by `npm start` (all in one process).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { createReconcileActivities } from './activities/reconcile';
import { ensureReconcileSchedule } from './temporal/schedules';
import { createApp } from './api/app';
import { listen, type RunningServer } from './api/server';
import type { AppConfig } from './config';
import { giteaClientFromConfig, giteaConfigured, planeClientFromConfig, planeConfigured, planeDirectoryFromConfig } from './tracker/from-config';
import type { Logger } from './util/logger';
import { createWorker } from './worker/create-worker';
import { startWorkerMetrics } from './worker/metrics-server';
import { assertSandboxAvailable } from './sandbox/sandbox';

export async function connectClient(config: AppConfig): Promise<Client> {
  const connection = await Connection.connect({ address: config.env.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  return new Client({ connection, namespace: config.env.TEMPORAL_NAMESPACE });
}

export interface RunningWorker {
  readonly worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorker(config: AppConfig, logger: Logger): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: config.env.TEMPORAL_ADDRESS });
  const client = await connectClient(config);
  const plane = planeConfigured(config) ? planeClientFromConfig(config) : undefined;
  const gitea = giteaConfigured(config) ? giteaClientFromConfig(config) : undefined;
  const worker = await createWorker({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.ORCH_TASK_QUEUE,
    shutdownGraceTimeMs: config.env.ORCH_WORKER_SHUTDOWN_GRACE_MS,
    activities: { ...createActivities(config, { plane, gitea, client }), ...createReconcileActivities({ config, client, plane }) },
  });
  if (plane) {
    const outcome = await ensureReconcileSchedule(client, config);
    logger.info(`catch-up schedule ${outcome}`, { everyMs: config.env.ORCH_RECONCILE_INTERVAL_MS });
  } else {
    logger.warn('the Plane API is not configured: no catch-up schedule, tracker notices are skipped');
  }
  await announceSandbox(config, logger);
  const metrics = config.env.ORCH_WORKER_METRICS_PORT ? await startWorkerMetrics(config.env.ORCH_WORKER_METRICS_HOST, config.env.ORCH_WORKER_METRICS_PORT) : undefined;
  if (metrics) logger.info('worker metrics listening', { url: metrics.url });
  const done = worker.run().finally(async () => {
    await metrics?.close();
    await client.connection.close();
    await connection.close();
  });
  logger.info('worker polling', { taskQueue: config.env.ORCH_TASK_QUEUE, namespace: config.env.TEMPORAL_NAMESPACE });
  return {
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * Says at start how agents will run. An unusable sandbox does not stop the worker (gates, deploys
 * and tracker notices still work); each agent step blocks its item with what to install.
 */
async function announceSandbox(config: AppConfig, logger: Logger): Promise<void> {
  if (config.env.ORCH_AGENT_SANDBOX === 'off') {
    logger.warn('ORCH_AGENT_SANDBOX=off: agents run UNSANDBOXED, with the worker\'s access to its secrets, every checkout and the network');
    return;
  }
  try {
    await assertSandboxAvailable(config.env.ORCH_BWRAP_BIN);
    logger.info('agent runs are sandboxed', { sandbox: 'bwrap', bwrap: config.env.ORCH_BWRAP_BIN });
  } catch (err) {
    logger.error('the agent sandbox cannot be set up: agent steps will block until it can', { reason: (err as Error).message });
  }
}

export async function startApi(config: AppConfig, client: Client, logger: Logger): Promise<RunningServer> {
  const apiLogger = logger.child({ component: 'api' });
  for (const [source, secret] of [['plane', config.env.ORCH_PLANE_WEBHOOK_SECRET], ['gitea', config.env.ORCH_GITEA_WEBHOOK_SECRET]] as const) {
    if (!secret) apiLogger.warn(`no ${source} webhook secret configured: every ${source} delivery will be rejected with 401`);
  }
  const app = createApp({ client, config, logger: apiLogger, planeDirectory: planeDirectoryFromConfig(config) });
  const server = await listen(app, config.env.ORCH_API_HOST, config.env.ORCH_API_PORT);
  logger.info('api listening', { url: server.url });
  return server;
}
