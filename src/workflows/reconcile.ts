// The catch-up job, run by a Temporal Schedule: neither Plane nor Gitea re-sends a delivery
// reliably, so the tracker's own state is compared with the work items now and then.
import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities, ReconcileInput, ReconcileResult } from '../domain/reconcile';

export async function reconcileTracker(input: ReconcileInput): Promise<ReconcileResult> {
  const { reconcilePlane } = proxyActivities<ReconcileActivities>({
    startToCloseTimeout: input.timeoutMs,
    heartbeatTimeout: input.heartbeatMs,
    retry: { maximumAttempts: 3 },
  });
  return reconcilePlane(input);
}
