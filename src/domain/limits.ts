import type { WorkItemLimits, WorkItemTimeouts } from './work-item';

export const DEFAULT_LIMITS: WorkItemLimits = {
  maxReviewRejections: 3,
  maxGateRetries: 3,
  dedupKeysKept: 500,
  eventsKept: 50,
};

export const DEFAULT_TIMEOUTS: WorkItemTimeouts = {
  agentMs: 60 * 60 * 1000,
  gateMs: 30 * 60 * 1000,
  deployMs: 30 * 60 * 1000,
  heartbeatMs: 60 * 1000,
  retryInitialIntervalMs: 10 * 1000,
  retryMaximumAttempts: 3,
};

/** Keeps the newest `max` entries: bounded memory for dedup keys and event logs. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
