// Starting the worker: the activities with their clients, the catch-up schedule, the sandbox
// announcement and the worker's metrics endpoint. Used by the worker entry point and npm start.
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createReconcileActivities } from '../activities/reconcile';
import { createCiCatchUpActivities } from '../activities/ci-catch-up';
import { connectClient } from '../client/connection';
import { hostId, hostRouting, projectsWaitingForCi, type AppConfig } from '../config';
import { assertSandboxAvailable } from '../sandbox/sandbox';
import { ensureReconcileSchedule } from '../temporal/schedules';
import { SEARCH_ATTRIBUTES_SETTLE_MS, ensureSearchAttributes } from '../temporal/search-attributes';
import { sdkMetricsUrl } from '../temporal/runtime';
import { connectFailure, connectionOptions } from '../temporal/connection-settings';
import { giteaClientFromConfig, giteaConfigured, planeClientFromConfig, planeConfigured } from '../tracker/from-config';
import type { Logger } from '../util/logger';
import { createWorker, workflowsPath } from './create-worker';
import { createHostWorkers } from './host-workers';
import { hostSlots } from '../activities/metrics';
import { bundleAtStart, prebuiltBundle } from './workflow-bundle';
import { workerVersioning, type PromotePolicy } from '../temporal/deployment-version';
import { takeRoutingIfDue } from './take-routing';
import { setupTracing } from '../telemetry/tracing';
import { startWorkerMetrics } from './metrics-server';
import { startWorkspaceSweeper } from './workspace-sweeper';

export interface RunningWorker {
  /** The main queue's worker, the pool-queue workers and the host queue's, as this process serves them. */
  readonly workers: readonly Worker[];
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  /** Whether this worker makes its version current when ORCH_WORKER_PROMOTE does not say. */
  readonly defaultPromote?: PromotePolicy;
}

export async function startWorker(
  config: AppConfig,
  logger: Logger,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const connection = await NativeConnection.connect(connectionOptions(config.temporal)).catch(async (err: unknown) => {
    throw await connectFailure(config.temporal, err);
  });
  const client = await connectClient(config);
  const plane = planeConfigured(config) ? planeClientFromConfig(config) : undefined;
  const gitea = giteaConfigured(config) ? giteaClientFromConfig(config) : undefined;
  const added = await ensureSearchAttributes(
    client.connection,
    config.env.TEMPORAL_NAMESPACE,
    SEARCH_ATTRIBUTES_SETTLE_MS,
  );
  if (added.length > 0)
    logger.info("registered the work items' search attributes", { namespace: config.env.TEMPORAL_NAMESPACE, added });
  const tracing = setupTracing('worker');
  const bundle = await workflowCode(logger);
  const versioning = workerVersioning(config, bundle.hash, options.defaultPromote ?? 'if-none');
  const activities = {
    ...createActivities(config, { plane, gitea, client }),
    ...createReconcileActivities({ config, client, plane }),
    ...createCiCatchUpActivities({ config, client, gitea }),
  };
  const roles = config.env.ORCH_WORKER_QUEUES;
  const common = {
    connection,
    tracing,
    namespace: config.env.TEMPORAL_NAMESPACE,
    shutdownGraceTimeMs: config.env.ORCH_WORKER_SHUTDOWN_GRACE_MS,
    ...(versioning ? { version: versioning.version } : {}),
  };
  const workers: Worker[] = [];
  if (roles.has('main')) {
    workers.push(
      await createWorker({
        ...common,
        workflowBundle: bundle.workflowBundle,
        taskQueue: config.env.ORCH_TASK_QUEUE,
        activities,
      }),
    );
  }
  const host = hostId(config);
  const pools = {
    ...(roles.has('agents') ? { agents: config.env.ORCH_AGENT_SLOTS } : {}),
    ...(roles.has('builds') ? { builds: config.env.ORCH_BUILD_SLOTS } : {}),
  };
  const fleet =
    Object.keys(pools).length > 0
      ? await createHostWorkers({
          ...common,
          mainQueue: config.env.ORCH_TASK_QUEUE,
          routing: hostRouting(config.env),
          host,
          pools,
          activities,
          onSlotChange: (use) => {
            hostSlots.set({ pool: use.pool, state: 'capacity' }, use.capacity);
            hostSlots.set({ pool: use.pool, state: 'held' }, use.held);
            hostSlots.set({ pool: use.pool, state: 'running' }, use.running);
          },
        })
      : undefined;
  if (fleet) workers.push(...fleet.workers);
  if (!plane) logger.warn('the Plane API is not configured: Plane is not caught up, Plane notices are skipped');
  if (plane || (gitea && projectsWaitingForCi(config).length > 0)) {
    const outcome = await ensureReconcileSchedule(client, config);
    logger.info(`catch-up schedule ${outcome}`, { everyMs: config.env.ORCH_RECONCILE_INTERVAL_MS });
  }
  await announceSandbox(config, logger);
  const sweeper = startWorkspaceSweeper(client, {
    dataDir: config.dataDir,
    retentionDays: config.env.ORCH_WORKSPACE_RETENTION_DAYS,
    logger,
  });
  const metrics = config.env.ORCH_WORKER_METRICS_PORT
    ? await startWorkerMetrics(
        config.env.ORCH_WORKER_METRICS_HOST,
        config.env.ORCH_WORKER_METRICS_PORT,
        sdkMetricsUrl(),
      )
    : undefined;
  if (metrics) logger.info('worker metrics listening', { url: metrics.url });
  const done = Promise.all(workers.map((w) => w.run())).then(
    () => undefined,
    async (err: unknown) => {
      // One worker failing stops the others: a half-serving process would hide the failure.
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      throw err;
    },
  );
  const finished = done.finally(async () => {
    sweeper.stop();
    await tracing.spanProcessor.forceFlush();
    await metrics?.close();
    await client.connection.close();
    await connection.close();
  });
  const deployment = versioning
    ? await takeRoutingIfDue(client, config.env.TEMPORAL_NAMESPACE, versioning, logger).catch(async (err: unknown) => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await finished.catch(() => undefined);
        throw err;
      })
    : undefined;
  logger.info('worker polling', {
    ...(deployment ?? { versioning: 'off' }),
    namespace: config.env.TEMPORAL_NAMESPACE,
    serves: [...roles],
    taskQueues: workers.map((w) => w.options.taskQueue),
    ...(fleet ? { host, hostQueue: fleet.hostQueue, slots: pools } : {}),
  });
  return {
    workers,
    done: finished,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await finished;
    },
  };
}

/**
 * Says at start how agents will run. An unusable sandbox does not stop the worker (gates, deploys
 * and tracker notices still work); each agent step blocks its item with what to install.
 */
async function announceSandbox(config: AppConfig, logger: Logger): Promise<void> {
  if (config.env.ORCH_AGENT_SANDBOX === 'off') {
    logger.warn(
      "ORCH_AGENT_SANDBOX=off: agents run UNSANDBOXED, with the worker's access to its secrets, every checkout and the network",
    );
    return;
  }
  try {
    await assertSandboxAvailable(config.env.ORCH_BWRAP_BIN);
    logger.info('agent runs are sandboxed', { sandbox: 'bwrap', bwrap: config.env.ORCH_BWRAP_BIN });
  } catch (err) {
    logger.error('the agent sandbox cannot be set up: agent steps will block until it can', {
      reason: (err as Error).message,
    });
  }
}

/** The prebuilt bundle, or the sources bundled now; either way with the hash that names it. */
async function workflowCode(
  logger: Logger,
): Promise<{ hash: string; workflowBundle: { codePath: string } | { code: string } }> {
  const prebuilt = prebuiltBundle();
  if (prebuilt) {
    logger.info('workflow bundle loaded', { hash: prebuilt.hash, bytes: prebuilt.bytes });
    return { hash: prebuilt.hash, workflowBundle: { codePath: prebuilt.codePath } };
  }
  logger.warn('no prebuilt workflow bundle (npm run build makes dist/workflow-bundle.js): bundling at start');
  const { code, hash } = await bundleAtStart(workflowsPath());
  return { hash, workflowBundle: { code } };
}
