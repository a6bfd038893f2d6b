// How an activity's failure becomes a block: a person-must-act failure type keeps its kind and
// message; anything else (retries exhausted, a timeout) is an activity error naming the activity.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FAILURE_NEEDS_PERSON, FAILURE_NOT_IMPLEMENTED, PERSON_FAILURES, type BlockedInfo } from '../domain';

/** Failure types Temporal never retries (the budget one is retried: a top-up may come meanwhile). */
export const RETRY_NEVER = [FAILURE_NOT_IMPLEMENTED, FAILURE_NEEDS_PERSON];

export function blockFromActivityError(err: unknown, activity: string): Omit<BlockedInfo, 'stage' | 'at'> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const kind = cause instanceof ApplicationFailure && cause.type ? PERSON_FAILURES[cause.type] : undefined;
  if (kind) return { kind, reason: (cause as ApplicationFailure).message };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { kind: 'activity-error', reason: `${activity} failed: ${message}` };
}

/** How many of a batch went out before the activity failed (its failure's details), else 0. */
export function deliveredBefore(err: unknown): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as { delivered?: unknown } | undefined) : undefined;
  return typeof details?.delivered === 'number' && details.delivered >= 0 ? details.delivered : 0;
}
