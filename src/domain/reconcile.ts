// Types of the tracker catch-up job (src/workflows/reconcile.ts).

export interface ReconcileInput {
  readonly timeoutMs: number;
  readonly heartbeatMs: number;
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
}

export interface ReconcileActivities {
  reconcilePlane(input: ReconcileInput): Promise<ReconcileResult>;
}

export const RECONCILE_SCHEDULE_ID = 'orchestrator-reconcile-plane';
