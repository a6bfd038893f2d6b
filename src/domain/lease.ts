// The per-repository merge lease: one long-lived workflow per repository hands the right to merge
// to one work item at a time, first come first served. Types shared by the lease workflow, the
// work-item workflow and the activity that files a request.

export interface LeaseRequest {
  /** The work item's workflow id: where the grant is signalled. */
  readonly holder: string;
  /** Unique per request; a repeated request with the same id is ignored. */
  readonly requestId: string;
  readonly ticket: string;
}

export interface LeaseGrant {
  readonly requestId: string;
  readonly leaseWorkflowId: string;
}

export interface LeaseRelease {
  readonly holder: string;
  readonly requestId: string;
}

export interface LeaseHolder extends LeaseRequest {
  readonly grantedAt: string;
}

export interface LeaseInput {
  /** The repository this lease serialises merges for (credentials removed). */
  readonly repository: string;
  /** How often the holder's workflow is checked while it holds the lease. */
  readonly holderCheckMs: number;
  /** The longest a holder may keep the lease; past it the lease moves on. */
  readonly maxHoldMs: number;
  /** Continue-as-new after this many grants (bounded history for a workflow that never ends). */
  readonly grantsPerRun?: number;
  readonly carried?: LeaseState;
}

export interface LeaseState {
  holder?: LeaseHolder;
  queue: LeaseRequest[];
  grants: number;
  /** Holders that lost the lease without releasing it, newest last (bounded). */
  expired: { readonly holder: string; readonly ticket: string; readonly why: string; readonly at: string }[];
}

export interface LeaseActivities {
  /** Whether the work item holding the lease is still running (it may have ended without releasing). */
  holderRunning(workflowId: string): Promise<boolean>;
}

/** What the work item asks before the merge gate. */
export interface LeaseTicket {
  readonly project: string;
  readonly ticket: string;
  readonly holder: string;
  readonly requestId: string;
}

export interface LeaseFiled {
  /** Absent when the merge gate does not apply to the project (no lease needed). */
  readonly leaseWorkflowId?: string;
}
