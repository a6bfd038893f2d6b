// The work item's activity proxies, one per timeout class (which activity a proxy is used for
// is the workflow's choice; the proxy only says how long and how often).
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ItemPriority, WorkItemActivities, WorkItemTimeouts } from '../domain';
import { RETRY_NEVER } from './activity-errors';

/** Another queue than the workflow's: a host's own queue or a pool's (ADR-0021, ADR-0023). */
export interface OnHost {
  readonly taskQueue: string;
  /** On a host's own queue: a task it does not take this soon means the host is gone. */
  readonly scheduleToStartMs?: number;
  /** On a pool's queue: the item's place in it. */
  readonly priority?: ItemPriority;
  /** Attempts left for the work, when earlier ones ran elsewhere (0: no limit, as Temporal's). */
  readonly maximumAttempts?: number;
}

export function workItemProxies(timeouts: WorkItemTimeouts, host?: OnHost) {
  const retry = {
    initialInterval: timeouts.retryInitialIntervalMs,
    maximumAttempts: host?.maximumAttempts ?? timeouts.retryMaximumAttempts,
    nonRetryableErrorTypes: RETRY_NEVER,
  };
  const where = host
    ? {
        taskQueue: host.taskQueue,
        ...(host.scheduleToStartMs !== undefined ? { scheduleToStartTimeout: host.scheduleToStartMs } : {}),
        ...(host.priority ? { priority: host.priority } : {}),
      }
    : {};
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
