// Failure types an activity throws (non-retryable) when a person must act; the workflow turns
// each into a block of its own kind. A wire contract between activities and the workflow.
import type { BlockKind } from './work-item';

/** The worker does not know what the workflow asked for (the name stays: recorded histories carry it). */
export const FAILURE_NOT_IMPLEMENTED = 'NotImplemented';
export const FAILURE_NEEDS_PERSON = 'NeedsPerson';
/** The project's budget is spent: a person raises it (projects.yaml) and retries. */
export const FAILURE_BUDGET = 'BudgetExhausted';

/** The block each person-must-act failure becomes. */
export const PERSON_FAILURES: Readonly<Record<string, BlockKind>> = {
  [FAILURE_NOT_IMPLEMENTED]: 'not-implemented',
  [FAILURE_NEEDS_PERSON]: 'needs-person',
  [FAILURE_BUDGET]: 'budget',
};
