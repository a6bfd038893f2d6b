// The failures an activity throws when retrying cannot help: the workflow turns each type into a
// block of its own kind (src/workflows/work-item.ts) and waits for a person.
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_BUDGET, FAILURE_NEEDS_PERSON, FAILURE_NOT_IMPLEMENTED } from '../domain/failures';

/** Something a person must fix (configuration, credentials, a repository that cannot be reached). */
export function needsPerson(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_NEEDS_PERSON, nonRetryable: true, message });
}

/** The money is spent: a person raises a budget (top-up, or projects.yaml) and retries. */
export function budgetExhausted(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_BUDGET, nonRetryable: true, message });
}

/**
 * Something the workflow asked for that this worker does not know (a workflow newer than the
 * worker): blocks the item until the workers are upgraded; it never pretends to succeed.
 */
export function unknownToThisWorker(what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FAILURE_NOT_IMPLEMENTED,
    nonRetryable: true,
    message: `this worker does not know ${what}: upgrade the workers, then retry`,
  });
}
