// An override sent by a catch-up job (Plane's or CI's), as an update with a stable id so a
// repeated run applies it once.
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import type { workItemHandle } from '../client/work-items';
import { cancelUpdate, pauseUpdate, retryUpdate } from '../workflows/messages';

/**
 * Sends an override as the catch-up job; false when the item refuses it (already paused, no
 * longer open): the item is already where the tracker says.
 */
export async function overrideApplied(
  handle: ReturnType<typeof workItemHandle>,
  kind: 'cancel' | 'pause' | 'retry',
  reason: string,
  updateId: string,
): Promise<boolean> {
  const update = { cancel: cancelUpdate, pause: pauseUpdate, retry: retryUpdate }[kind];
  try {
    await handle.startUpdate(update, {
      args: [{ by: 'catch-up job', reason }],
      updateId,
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return false;
    throw err;
  }
}
