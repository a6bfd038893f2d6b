// Until an activity is built it must not pretend to succeed: it fails non-retryably with the
// NotImplemented type, and the workflow blocks the item with "not implemented: <activity>".
import { ApplicationFailure } from '@temporalio/common';
import type { WorkItemActivities } from '../domain';
import { FAILURE_NOT_IMPLEMENTED } from '../workflows/messages';

function notImplemented(what: string): never {
  throw ApplicationFailure.create({ message: `not implemented: ${what}`, type: FAILURE_NOT_IMPLEMENTED, nonRetryable: true });
}

/** The capabilities still to be built. */
export const notImplementedActivities: Pick<WorkItemActivities, 'deployStaging' | 'deployProduction'> = {
  deployStaging: async () => notImplemented('deployStaging'),
  deployProduction: async () => notImplemented('deployProduction'),
};
