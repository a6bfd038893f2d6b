// The work item's side of the repository's merge lease: file the request, wait for the grant
// signal, run the merge, and release the lease whatever happens (also when a rollback or cancel
// interrupts the wait or the merge).
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { GateOutcome, LeaseFiled, LeaseTicket } from '../domain';
import { leaseReleaseSignal } from './lease-messages';
import { leaseWaitSummary } from './summaries';
import type { Patched } from './patches';

/**
 * How long one timer of the lease wait runs before it is set again. The timer only shows the wait
 * (with its summary) in the Web UI and the history; the grant ends it at any time.
 */
const LEASE_WAIT_MARK_MS = 60 * 60 * 1000;

export interface LeaseWait {
  readonly project: string;
  readonly ticket: string;
  /** Grants received so far (request ids), filled by the item's `leaseGranted` handler. */
  readonly grants: Set<string>;
  requestMergeLease(ticket: LeaseTicket): Promise<LeaseFiled>;
  /** The item's details, to which the wait is added while it lasts. */
  details(): string;
  readonly patched: Patched;
}

export async function underMergeLease(wait: LeaseWait, merge: () => Promise<GateOutcome>): Promise<GateOutcome> {
  const holder = workflowInfo().workflowId;
  const requestId = uuid4();
  const filed = await wait.requestMergeLease({ project: wait.project, ticket: wait.ticket, holder, requestId });
  const leaseId = filed.leaseWorkflowId;
  if (!leaseId) return merge();
  try {
    setCurrentDetails(`${wait.details()}\n\nWaiting for the merge lease (${leaseId}).`);
    const granted = () => wait.grants.has(requestId);
    if (wait.patched('lease-wait-timer')) {
      const summary = { summary: leaseWaitSummary(wait.ticket, leaseId) };
      while (!(await condition(granted, LEASE_WAIT_MARK_MS, summary))) {
        // Still queued behind another item: wait another hour, visibly.
      }
    } else {
      await condition(granted);
    }
    setCurrentDetails(wait.details());
    return await merge();
  } finally {
    wait.grants.delete(requestId);
    await CancellationScope.nonCancellable(async () => {
      try {
        await getExternalWorkflowHandle(leaseId).signal(leaseReleaseSignal, { holder, requestId });
      } catch (err) {
        // A lease that is gone holds nothing; its successor will not know this request.
        log.warn('merge lease not released', {
          ticket: wait.ticket,
          lease: leaseId,
          reason: err instanceof Error ? err.message : String(err),
        });
      }
    });
  }
}
