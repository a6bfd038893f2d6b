// The catch-up job, run by a Temporal Schedule: neither Plane nor Gitea re-sends a delivery
// reliably, so the tracker's own state (and Gitea's commit statuses) are compared with the work
// items now and then.
import { patched, proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import { whenVersioned } from './versioning';
import type { ReconcileActivities, ReconcileInput, ReconcileResult } from '../domain/reconcile';

// A run lasts seconds and a new one starts on the current build: pinned, it never meets another
// build's code, so its changes need no patches from now on (ADR-0028).
setWorkflowOptions(whenVersioned('PINNED'), reconcileTracker);

export async function reconcileTracker(input: ReconcileInput): Promise<ReconcileResult> {
  const { reconcilePlane, reconcileCi } = proxyActivities<ReconcileActivities>({
    startToCloseTimeout: input.timeoutMs,
    heartbeatTimeout: input.heartbeatMs,
    retry: { maximumAttempts: 3 },
  });
  const plane = await reconcilePlane(input);
  // Since `ci-catch-up` statuses whose deliveries were missed are read back from Gitea. Asked
  // only when some project waits for CI, so the other runs' histories stay as they were.
  if (input.ciCatchUp && patched('ci-catch-up')) return { ...plane, ci: await reconcileCi(input) };
  return plane;
}
