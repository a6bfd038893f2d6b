// The work item's input and state. The state is plain JSON (no Map/Set/Date) because it is
// carried across continue-as-new and returned by the `state` query.
import type { GateName, GateVerdict } from './gates';
import type { HostRouting, ItemPriority, LostRun } from './hosts';
import type { Role, Stage } from './stages';

export interface WorkItemLimits {
  /** How many times a reviewer's REQUEST_CHANGES may send the item back to development. */
  readonly maxReviewRejections: number;
  /** How many times failed gates may send the item back for another attempt. */
  readonly maxGateRetries: number;
  /** How many webhook dedup keys the item remembers (oldest forgotten first). */
  readonly dedupKeysKept: number;
  /** How many recent events the item keeps in its state for inspection. */
  readonly eventsKept: number;
}

/** Every timeout is an input so tests can run the pipeline in milliseconds. */
export interface WorkItemTimeouts {
  readonly agentMs: number;
  readonly gateMs: number;
  readonly deployMs: number;
  readonly heartbeatMs: number;
  readonly retryInitialIntervalMs: number;
  readonly retryMaximumAttempts: number;
}

export interface WorkItemInput {
  readonly project: string;
  readonly ticket: string;
  readonly title: string;
  readonly description: string;
  readonly url?: string;
  readonly budgetUsd: number;
  readonly limits: WorkItemLimits;
  readonly timeouts: WorkItemTimeouts;
  /**
   * Continue-as-new once history reaches this many events, in addition to the server's
   * suggestion. Lets tests exercise continue-as-new without a 10k-event history.
   */
  readonly continueAsNewAfterEvents?: number;
  /** State carried over by continue-as-new; absent on the first run. */
  readonly carried?: WorkItemState;
  /**
   * False when the project has no tracker (neither Plane nor Gitea): its notices are dropped
   * without an activity. Absent (items started before it existed) means they are delivered.
   */
  readonly trackers?: boolean;
  /**
   * Host-bound work (agent runs, build-checkout gates, deploys) claims a host first and runs on
   * its own queue (ADR-0021). Absent (items started before it existed, and tests of the rules):
   * everything runs on the workflow's own task queue.
   */
  readonly hosts?: HostRouting;
  /** The item's place in the claim queues; set at start with `hosts`. */
  readonly priority?: ItemPriority;
  /**
   * The CI contexts that must be green on the item's head before development passes (ADR-0025).
   * Absent or empty (items started before it existed, projects without CI): no wait.
   */
  readonly ci?: CiRequirement;
  /** Set when the project requires a person's approval of the PR after review (ADR-0026). */
  readonly requireHumanApproval?: boolean;
}

export interface CiRequirement {
  /** Commit-status contexts that count (`ci/woodpecker/push/test`, ...). */
  readonly requiredContexts: readonly string[];
  /** How long development waits for all of them on one head before the item blocks. */
  readonly timeoutMs: number;
}

/** A commit status the code host reported (Gitea's `status` delivery). */
export interface CiStatus {
  readonly sha: string;
  readonly context: string;
  /** Gitea's states: pending, success, error, failure, warning. */
  readonly state: string;
  readonly description?: string;
  readonly targetUrl?: string;
}

export type WorkItemStatus = 'active' | 'blocked' | 'done' | 'cancelled';

/** Where the main loop picks the work up after an override or a continue-as-new. */
export type ResumePoint = { readonly phase: 'step' } | { readonly phase: 'gates'; readonly fromGate: number };

export type BlockKind =
  | 'cap'
  | 'activity-error'
  | 'not-implemented'
  | 'needs-person'
  | 'tracker'
  | 'budget'
  /** A person moved the ticket back (Plane backlog or unstarted) or paused it: resumed by retry or the trigger state. */
  | 'paused'
  /** The required CI contexts did not all report on the item's head in time: retry waits again. */
  | 'ci';

export interface BlockedInfo {
  readonly kind: BlockKind;
  readonly reason: string;
  readonly stage: Stage;
  readonly at: string;
  /** Set when a gate blocked the item: the index of that gate on the stage's edge. */
  readonly gateIndex?: number;
  readonly gate?: GateName;
  /** For a tracker block raised while the item was already blocked: that earlier block. */
  readonly underlying?: BlockedInfo;
  /** Set when the production rollback a person asked for did not succeed. */
  readonly productionRollback?: true;
}

export interface StageVisit {
  readonly stage: Stage;
  readonly enteredAt: string;
  leftAt?: string;
  /** How the stage ended: `passed`, `returned to development`, `rolled back`, ... */
  outcome?: string;
}

export interface GateRecord {
  readonly stage: Stage;
  readonly gate: GateName;
  readonly verdict: GateVerdict | 'SKIPPED' | 'APPROVED_BY_PERSON';
  readonly findings: readonly string[];
  readonly at: string;
}

export type OverrideKind = 'approve' | 'retry' | 'skip-gate' | 'rollback' | 'cancel' | 'top-up' | 'pause';

export interface OverrideRecord {
  readonly kind: OverrideKind;
  readonly by: string;
  readonly reason?: string;
  readonly gate?: GateName;
  readonly toStage?: Stage;
  /** For a top-up: how many dollars were added to the item's budget. */
  readonly amountUsd?: number;
  readonly stage: Stage;
  readonly at: string;
}

export interface PendingSkip {
  readonly gate: GateName;
  readonly by: string;
  readonly reason: string;
}

export interface WorkItemEventRecord {
  readonly key: string;
  readonly source: string;
  readonly type: string;
  readonly summary?: string;
  readonly receivedAt: string;
}

/** A change the tracker is told about (comment, state move), in order, exactly once. */
export interface TrackerNotice {
  /** Per item, increasing: the tracker's idempotency key is built from it. */
  readonly seq: number;
  readonly kind: 'stage' | 'blocked' | 'done' | 'cancelled' | 'gate';
  readonly stage: Stage;
  readonly previousStage?: Stage;
  readonly reason?: string;
  readonly gate?: GateName;
  /** For gate notices: the verdict and the findings, verbatim. */
  readonly verdict?: GateRecord['verdict'];
  readonly findings?: readonly string[];
  readonly at: string;
}

export interface TrackerSyncInput {
  readonly project: string;
  readonly ticket: string;
  readonly title: string;
  /** The item's branch in the project's repository. */
  readonly branch: string;
  readonly notice: TrackerNotice;
}

/** Several notices of one item, delivered in order by one activity (each idempotently). */
export interface TrackerNoticesInput {
  readonly project: string;
  readonly ticket: string;
  readonly title: string;
  readonly branch: string;
  readonly notices: readonly TrackerNotice[];
}

export interface TrackerSyncResult {
  /** What was done, for the history: e.g. `commented; moved to started`, or why nothing was. */
  readonly summary: string;
  /** The item's pull request on the code host, when a notice opened or found it. */
  readonly pullRequest?: PullRequestRef;
}

/** The item's pull request on the code host. */
export interface PullRequestRef {
  readonly number: number;
  /** Its page, for people; absent when the code host did not say. */
  readonly url?: string;
}

export interface WorkItemState {
  readonly project: string;
  readonly ticket: string;
  title: string;
  description: string;
  url?: string;
  /** `feature/<ticket>-<slug>`, fixed at start so a renamed ticket keeps its branch. */
  branch: string;
  stage: Stage;
  status: WorkItemStatus;
  blocked?: BlockedInfo;
  /** Set by an override or a carried state; consumed by the main loop. */
  resume?: ResumePoint;
  /** Visits of the current stage, 1 on first entry (the `attempt` search attribute). */
  attempt: number;
  reviewRejections: number;
  gateRetries: number;
  /** Findings handed verbatim to the next step run; cleared once a stage passes its gates. */
  findings: string[];
  history: StageVisit[];
  gateResults: GateRecord[];
  overrides: OverrideRecord[];
  pendingSkips: PendingSkip[];
  events: WorkItemEventRecord[];
  seenEventKeys: string[];
  duplicateEventsIgnored: number;
  costUsd: number;
  budgetUsd: number;
  /**
   * The last Claude Code session id per stage, for inspection (`claude --resume <id>` in the
   * workspace). A crashed run is resumed by the activity itself, from its heartbeat.
   */
  sessions: Partial<Record<Stage, string>>;
  /** How many times this item has continued-as-new. */
  generation: number;
  /** Tracker notices not yet delivered, oldest first. */
  notices: TrackerNotice[];
  noticeSeq: number;
  /** The production deploy of the current deploy-stage visit has started (production may run this item's code). */
  productionTouched?: boolean;
  /** A person rolled the item back after its production deploy started: production is rolled back next. */
  pendingProductionRollback?: ProductionRollbackRequest;
  /** The host queues that ran this item's work (its checkouts are removed there when it is done). */
  hostQueues?: string[];
  /** Runs lost with their host and started again elsewhere in a new session. */
  lostRuns?: LostRunRecord[];
  /** The commit an agent last pushed to the item's branch (the head CI reports on). */
  headSha?: string;
  /** The latest status per context reported for `headSha` (ADR-0025). */
  ciStatuses?: CiStatus[];
  /** Who approved the pull request at `headSha` (ADR-0026). */
  approvedBy?: string[];
  /** The item's pull request, once a tracker notice opened or found it. */
  pullRequest?: PullRequestRef;
}

export interface LostRunRecord {
  readonly stage: Stage;
  readonly attempt: number;
  /** `runAgent`, a deploy, or `runGate(<gate>)`. */
  readonly work: string;
  readonly host: string;
  readonly reason: string;
  readonly at: string;
}

export interface ProductionRollbackRequest {
  readonly by: string;
  readonly reason?: string;
}

/** What the production rollback activity receives. */
export interface ProductionRollbackInput extends ProductionRollbackRequest {
  readonly project: string;
  readonly ticket: string;
  readonly branch: string;
  /** The host slot claimed for the rollback, when it was routed to a host. */
  readonly hostSlot?: string;
}

export interface ProductionRollbackResult {
  /** False when no rollback command is configured, it failed, or production stayed unhealthy. */
  readonly ok: boolean;
  readonly detail: string;
}

/** What a step activity (agent run or deploy) receives. */
export interface StepInput {
  readonly project: string;
  readonly ticket: string;
  readonly title: string;
  readonly description: string;
  readonly stage: Stage;
  readonly role?: Role;
  readonly attempt: number;
  /** Findings of the gates that sent the item back, verbatim. */
  readonly findings: readonly string[];
  readonly sessionId?: string;
  readonly remainingBudgetUsd: number;
  /** The item's branch; absent in inputs recorded before branches were tracked. */
  readonly branch?: string;
  /** The host slot claimed for this run (HostClaim.token), when it was routed to a host. */
  readonly hostSlot?: string;
  /** An earlier run of this step lost with its host: the new session is told what it did. */
  readonly lostRun?: LostRun;
  /**
   * The Claude session of this run, chosen by the workflow, when the run may span activities (a
   * first attempt on the pool's queue, its retries on the host's own queue; ADR-0023). Absent:
   * the session follows from the activity's id.
   */
  readonly runSession?: string;
  /** Attempts of this run made by earlier activities (the first one on the pool's queue). */
  readonly priorAttempts?: number;
}

/** A step that ran (and cost money) but needs a person before the item can go on. */
export interface StepStop {
  readonly kind: 'budget' | 'needs-person';
  readonly reason: string;
}

export interface StepResult {
  readonly costUsd: number;
  readonly sessionId?: string;
  readonly summary?: string;
  /** Set when the step ended in a way a person must fix; its cost still counts. */
  readonly stop?: StepStop;
  /**
   * Set when the run failed in a way the stage's failure path handles, like a failed gate: an
   * agent stopped in a loop. The findings go verbatim to the next run (capped by maxGateRetries).
   */
  readonly failed?: { readonly kind: 'loop'; readonly findings: readonly string[] };
  /** What went wrong on the way to a success (`stalled after …`), for the item's events. */
  readonly incidents?: readonly string[];
  /** The host queue of the host whose checkout holds the run's work (runs taken from a pool's queue). */
  readonly ranOn?: string;
  /** The item branch's head after the run's push. */
  readonly head?: string;
}

export interface GateInput {
  readonly project: string;
  readonly ticket: string;
  readonly stage: Stage;
  readonly gate: GateName;
  readonly attempt: number;
  /** The item's branch; absent in inputs recorded before branches were tracked. */
  readonly branch?: string;
  /** The host slot claimed for this gate (HostClaim.token), when it was routed to a host. */
  readonly hostSlot?: string;
}

/** One webhook- or operator-originated event, delivered by the `event` signal. */
export interface WorkItemEvent {
  /** Deduplication key supplied by the sender (the API uses source + body hash). */
  readonly key: string;
  readonly source: 'plane' | 'gitea' | 'cli' | 'system';
  readonly type: string;
  readonly summary?: string;
  readonly title?: string;
  readonly description?: string;
  /** A commit status from the code host, for the CI wait. */
  readonly ci?: CiStatus;
  /** A person's REQUEST_CHANGES review on the item's pull request, with its text. */
  readonly changesRequested?: { readonly by: string; readonly text: string };
  /** A person's approval of the item's pull request at a commit. */
  readonly approved?: { readonly by: string; readonly sha: string };
}
