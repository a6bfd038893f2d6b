import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { WorkItemActivities } from '../domain';

export interface CreateWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: WorkItemActivities;
  /** A prebuilt workflow bundle (tests build it once); otherwise the worker bundles src/workflows. */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  readonly identity?: string;
  /** How long running activities may finish after shutdown starts before they are cancelled. */
  readonly shutdownGraceTimeMs?: number;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.shutdownGraceTimeMs !== undefined ? { shutdownGraceTime: options.shutdownGraceTimeMs } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
  });
}
