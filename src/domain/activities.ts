// The activity interface the work-item workflow calls. Implementations live in src/activities;
// the workflow sees only these signatures.
import type { GateOutcome } from './gates';
import type { HostClaim, HostClaimRequest } from './hosts';
import type { LeaseFiled, LeaseTicket } from './lease';
import type {
  GateInput,
  ProductionRollbackInput,
  ProductionRollbackResult,
  StepInput,
  StepResult,
  TrackerNoticesInput,
  TrackerSyncInput,
  TrackerSyncResult,
} from './work-item';

export interface WorkItemActivities {
  runAgent(input: StepInput): Promise<StepResult>;
  deployStaging(input: StepInput): Promise<StepResult>;
  deployProduction(input: StepInput): Promise<StepResult>;
  /** Runs the project's rollback command against production (a person rolled the item back from deploy). */
  rollbackProduction(input: ProductionRollbackInput): Promise<ProductionRollbackResult>;
  runGate(input: GateInput): Promise<GateOutcome>;
  /** Tells the tracker about a stage change or a block (comment, state move); idempotent. Kept for histories before `tracker-courier`. */
  syncTracker(input: TrackerSyncInput): Promise<TrackerSyncResult>;
  /** Delivers several notices in order, each idempotently: one round trip for all that are pending. */
  syncTrackerNotices(input: TrackerNoticesInput): Promise<TrackerSyncResult>;
  /** Files the item's request for its repository's merge lease (starting the lease workflow). */
  requestMergeLease(input: LeaseTicket): Promise<LeaseFiled>;
  /** Removes the item's checkout once it is delivered; idempotent. */
  releaseWorkspace(input: WorkspaceRef): Promise<void>;
}

/** Served on the claim queues by hosts with a free slot (ADR-0021), not by the main worker. */
export interface HostClaimActivities {
  /** Takes one slot of this host's pool for the run that follows on the host's own queue. */
  claimHost(input: HostClaimRequest): Promise<HostClaim>;
}

export interface WorkspaceRef {
  readonly project: string;
  readonly ticket: string;
}

export type WorkItemActivityName = keyof WorkItemActivities;
