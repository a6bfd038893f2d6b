// The catch-up job's Temporal Schedule, created (or brought up to date) when a worker starts.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { projectsWaitingForCi, type AppConfig } from '../config';
import { RECONCILE_SCHEDULE_ID, type ReconcileInput } from '../domain/reconcile';

export async function ensureReconcileSchedule(client: Client, config: AppConfig): Promise<'created' | 'updated'> {
  const input: ReconcileInput = {
    timeoutMs: config.env.ORCH_GATE_TIMEOUT_MS,
    heartbeatMs: config.env.ORCH_HEARTBEAT_TIMEOUT_MS,
    ...(projectsWaitingForCi(config).length > 0 ? { ciCatchUp: true } : {}),
  };
  const spec = { intervals: [{ every: config.env.ORCH_RECONCILE_INTERVAL_MS }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileTracker',
    taskQueue: config.env.ORCH_TASK_QUEUE,
    args: [input],
    workflowId: 'reconcile-tracker',
  };
  try {
    await client.schedule.create({
      scheduleId: RECONCILE_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: config.env.ORCH_RECONCILE_INTERVAL_MS },
      memo: {
        purpose:
          "Reconcile work items with Plane (starts missed items, follows state changes) and with Gitea's CI statuses",
      },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}
