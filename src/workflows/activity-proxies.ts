// The work item's activity proxies, one per timeout class (which activity a proxy is used for
// is the workflow's choice; the proxy only says how long and how often).
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { WorkItemActivities, WorkItemTimeouts } from '../domain';
import { RETRY_NEVER } from './activity-errors';

/** A host's own queue (ADR-0021): a task it does not take within `scheduleToStartMs` means the host is gone. */
export interface OnHost {
  readonly taskQueue: string;
  readonly scheduleToStartMs: number;
}

export function workItemProxies(timeouts: WorkItemTimeouts, host?: OnHost) {
  const retry = {
    initialInterval: timeouts.retryInitialIntervalMs,
    maximumAttempts: timeouts.retryMaximumAttempts,
    nonRetryableErrorTypes: RETRY_NEVER,
  };
  const where = host ? { taskQueue: host.taskQueue, scheduleToStartTimeout: host.scheduleToStartMs } : {};
  // Steps work in the item's checkout: after a rollback or cancel the next step must not start
  // until the cancelled one has really stopped.
  const stepOptions = {
    ...where,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    heartbeatTimeout: timeouts.heartbeatMs,
    retry,
  };
  return {
    agentSteps: proxyActivities<WorkItemActivities>({ ...stepOptions, startToCloseTimeout: timeouts.agentMs }),
    deploySteps: proxyActivities<WorkItemActivities>({ ...stepOptions, startToCloseTimeout: timeouts.deployMs }),
    gateCalls: proxyActivities<WorkItemActivities>({
      ...where,
      startToCloseTimeout: timeouts.gateMs,
      heartbeatTimeout: timeouts.heartbeatMs,
      retry,
    }),
    // Telling the tracker must not be lost to a flaky API: more attempts than other activities.
    noticeCalls: proxyActivities<WorkItemActivities>({
      ...where,
      startToCloseTimeout: timeouts.gateMs,
      retry: { ...retry, maximumAttempts: Math.max(timeouts.retryMaximumAttempts, 5) },
    }),
  };
}

export type WorkItemProxies = ReturnType<typeof workItemProxies>;
