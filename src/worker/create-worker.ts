import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkItemActivities } from '../domain';
import type { Tracing } from '../telemetry/tracing';

export interface CreateWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: WorkItemActivities | Record<string, (...args: never[]) => Promise<unknown>>;
  /** A worker of activities only (the pool queues, a host's own queue): no workflows. */
  readonly activitiesOnly?: boolean;
  /** Slot settings: a pool queue's custom slot supplier, a host queue's cap. */
  readonly slots?: Pick<WorkerOptions, 'tuner' | 'maxConcurrentActivityTaskExecutions'>;
  /** A prebuilt workflow bundle (tests build it once); otherwise the worker bundles src/workflows. */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  readonly identity?: string;
  /** How long running activities may finish after shutdown starts before they are cancelled. */
  readonly shutdownGraceTimeMs?: number;
  /** Where activity and workflow spans go (src/telemetry/tracing.ts); none: not traced. */
  readonly tracing?: Tracing;
  /**
   * The Worker Deployment version this worker is (ADR-0028); none: unversioned. Workflows that
   * declare no behaviour of their own are AUTO_UPGRADE.
   */
  readonly version?: WorkerDeploymentVersion;
}

/** The OpenTelemetry workflow interceptors: in the prebuilt bundle, or bundled at start with the rest. */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

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
    ...options.slots,
    ...(options.version
      ? {
          workerDeploymentOptions: {
            version: options.version,
            useWorkerVersioning: true,
            defaultVersioningBehavior: 'AUTO_UPGRADE' as const,
          },
        }
      : {}),
    ...(options.activitiesOnly
      ? {}
      : options.workflowBundle
        ? { workflowBundle: options.workflowBundle }
        : { workflowsPath: workflowsPath() }),
    ...(options.tracing ? tracingOptions(options.tracing, options) : {}),
  });
}

function tracingOptions(
  tracing: Tracing,
  options: Pick<CreateWorkerOptions, 'activitiesOnly' | 'workflowBundle'>,
): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const activity: NonNullable<WorkerOptions['interceptors']>['activity'] = [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
  if (options.activitiesOnly) return { interceptors: { activity } };
  const bundlingAtStart = options.workflowBundle === undefined;
  return {
    interceptors: {
      activity,
      ...(bundlingAtStart ? { workflowModules: [WORKFLOW_TRACING_MODULE] } : {}),
    },
    // The workflow interceptors hand their spans out of the sandbox through this sink.
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
