// Types of the tracker catch-up job (src/workflows/reconcile.ts).

export interface ReconcileInput {
  readonly timeoutMs: number;
  readonly heartbeatMs: number;
  /** Some project waits for CI statuses on Gitea: catch up on those too (ADR-0025). */
  readonly ciCatchUp?: boolean;
}

/** What the CI catch-up found: statuses whose deliveries were missed, read from Gitea's API. */
export interface CiCatchUpResult {
  /** `<ticket> <context> <state>` for each status sent to an item that had not heard it. */
  readonly statuses: string[];
  /** Items blocked because CI was silent, retried now that it has spoken. */
  readonly retried: string[];
  /** Projects skipped, with why (no Gitea API). */
  readonly skipped: string[];
  /** Projects whose catch-up failed, with why; the others went on. */
  readonly failed: string[];
}

export interface ReconcileResult {
  /** Work items started because their webhook was missed. */
  readonly started: readonly string[];
  /** Work items cancelled because their ticket was cancelled in Plane meanwhile. */
  readonly cancelled: readonly string[];
  /** Projects skipped, with why (no Plane project configured, or no Plane API). */
  readonly skipped: readonly string[];
  /** Items paused because their ticket was moved back (backlog, unstarted) meanwhile. */
  readonly paused?: readonly string[];
  /** Paused items whose ticket is back in the trigger state. */
  readonly resumed?: readonly string[];
  /** Items blocked on a tracker failure whose notices were tried again. */
  readonly noticesRetried?: readonly string[];
  /** Projects whose catch-up failed, with why (their Plane API answered an error); the others went on. */
  readonly failed?: readonly string[];
  /** The CI catch-up, when some project waits for CI. */
  readonly ci?: CiCatchUpResult;
}

export interface ReconcileActivities {
  reconcilePlane(input: ReconcileInput): Promise<ReconcileResult>;
  reconcileCi(input: ReconcileInput): Promise<CiCatchUpResult>;
}

export const RECONCILE_SCHEDULE_ID = 'orchestrator-reconcile-plane';
