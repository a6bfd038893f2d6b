import type { WorkItemLimits } from './work-item';

export const DEFAULT_LIMITS: WorkItemLimits = {
  maxReviewRejections: 3,
  maxGateRetries: 3,
  dedupKeysKept: 500,
  eventsKept: 50,
};

/** Keeps the newest `max` entries: bounded memory for dedup keys and event logs. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
