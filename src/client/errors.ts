// Turns client-side failures into one readable sentence for operators (CLI, API responses).
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';

export function describeClientError(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError) {
    // The validator's message travels as the cause (an ApplicationFailure).
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return `rejected: ${cause ?? err.message}`;
  }
  if (err instanceof WorkflowNotFoundError) return `no such work item (${err.workflowId ?? 'unknown id'})`;
  if (err instanceof ServiceError) return `Temporal service error: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Resolves to the rejection message of an update that must be rejected; throws if it was accepted. */
export async function rejectionOf(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return describeClientError(err);
    throw err;
  }
  throw new Error('the update was accepted, a rejection was expected');
}
