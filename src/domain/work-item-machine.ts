// The work item's rules as a plain class: moving between stages, blocking and unblocking, sending
// work back (review and gate-retry caps), applying overrides, rollbacks and cancels, tracker-block
// rules, and what is recorded (gates, events, overrides, notices). It is deterministic and does
// no I/O: time, publishing, logging and the answers of `patched()` come through the port, so the
// workflow (src/workflows/work-item.ts) only wires Temporal to it and unit tests drive it in
// milliseconds. Every method does exactly what the workflow did inline before: recorded
// histories replay unchanged.
import { ciMissing, recordCiStatus, recordHead, validCiStatus } from './ci-wait';
import type { GateName, GateOutcome } from './gates';
import type { LostRun } from './hosts';
import { pushBounded } from './limits';
import { STAGE_GRAPH, type Stage, type StageSpec, type StageStep } from './stages';
import type {
  BlockedInfo,
  GateInput,
  GateRecord,
  OverrideRecord,
  ResumePoint,
  StepInput,
  StepResult,
  PullRequestRef,
  TrackerNotice,
  WorkItemEvent,
  WorkItemLimits,
  WorkItemState,
} from './work-item';

/** The patches whose answers change what the rules do (asked only where they apply). */
export type MachinePatch = 'tracker-gate-notices' | 'production-rollback' | 'agent-run-incidents';

export interface MachinePort {
  /** The workflow task's time (deterministic in the workflow). */
  now(): string;
  /** Search attributes and Web UI details follow a state change. */
  publish(): void;
  patched(id: MachinePatch): boolean;
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** A rollback or cancel: applied at once when nothing runs, else after the running work stops. */
export type Interrupt =
  | { readonly kind: 'rollback'; readonly toStage: Stage; readonly by: string; readonly reason?: string }
  | { readonly kind: 'cancel'; readonly by: string; readonly reason?: string }
  | { readonly kind: 'pause'; readonly by: string; readonly reason?: string }
  /** A person's REQUEST_CHANGES on the PR: back to development like the reviewer's (capped alike). */
  | { readonly kind: 'changes-requested'; readonly by: string; readonly reason: string };

export interface OverrideArgs {
  readonly by: string;
  readonly reason?: string;
}

export interface OverrideResult {
  readonly ticket: string;
  readonly stage: Stage;
  readonly status: WorkItemState['status'];
}

export interface MachineOptions {
  /**
   * False when the item's project has no tracker and the workflow said so (patch
   * `untracked-keeps-no-notices`): no notice is ever queued, so nothing asks the tracker patches.
   * Absent or true: notices are queued (and an untracked item's courier drops them).
   */
  readonly keepsNotices?: boolean;
}

export class WorkItemMachine {
  constructor(
    readonly state: WorkItemState,
    private readonly limits: WorkItemLimits,
    private readonly port: MachinePort,
    private readonly options: MachineOptions = {},
  ) {}

  /** The current stage's place in the graph. */
  spec(): StageSpec {
    return STAGE_GRAPH[this.state.stage];
  }

  result(): OverrideResult {
    return { ticket: this.state.ticket, stage: this.state.stage, status: this.state.status };
  }

  // ---- overrides ------------------------------------------------------------------------------

  approve(args: OverrideArgs): OverrideResult {
    const { state } = this;
    this.recordOverride({ kind: 'approve', by: args.by, reason: args.reason });
    const blocked = state.blocked;
    if (blocked?.productionRollback) {
      // A person vouches that production is fine (rolled back by hand): the item goes on.
      state.pendingProductionRollback = undefined;
      this.unblock(undefined);
      return this.result();
    }
    if (blocked?.kind === 'tracker') {
      // A person accepts that the tracker misses this notice.
      state.notices.shift();
      this.leaveTrackerBlock(blocked);
      return this.result();
    }
    if (blocked?.gate !== undefined && blocked.gateIndex !== undefined) {
      this.recordGate(blocked.gate, 'APPROVED_BY_PERSON', [
        `approved by ${args.by}${args.reason ? `: ${args.reason}` : ''}`,
      ]);
      this.unblock({ phase: 'gates', fromGate: blocked.gateIndex + 1 });
    } else {
      // The step failed and a person vouches for its result: go on to the gates.
      this.unblock({ phase: 'gates', fromGate: 0 });
    }
    return this.result();
  }

  retry(args: OverrideArgs): OverrideResult {
    this.recordOverride({ kind: 'retry', by: args.by, reason: args.reason });
    // A tracker block retries the notice; a CI timeout waits for CI again (the work is pushed);
    // any other block re-runs the stage from its step.
    const blocked = this.state.blocked;
    if (blocked?.kind === 'tracker') this.leaveTrackerBlock(blocked);
    else if (blocked?.kind === 'ci' && blocked.gateIndex !== undefined)
      this.unblock({ phase: 'gates', fromGate: blocked.gateIndex });
    else this.unblock({ phase: 'step' });
    return this.result();
  }

  /** `gate` is the validated gate name. */
  skipGate(args: OverrideArgs & { readonly reason: string }, gate: GateName): OverrideResult {
    this.recordOverride({ kind: 'skip-gate', by: args.by, reason: args.reason, gate });
    const blocked = this.state.blocked;
    if (blocked?.gate === gate && blocked.gateIndex !== undefined) {
      this.recordGate(gate, 'SKIPPED', [`skipped by ${args.by}: ${args.reason}`]);
      this.unblock({ phase: 'gates', fromGate: blocked.gateIndex + 1 });
    } else {
      this.state.pendingSkips.push({ gate, by: args.by, reason: args.reason });
    }
    return this.result();
  }

  /** `amountUsd` is the validated amount. */
  topUp(args: OverrideArgs, amountUsd: number): OverrideResult {
    this.recordOverride({ kind: 'top-up', by: args.by, reason: args.reason, amountUsd });
    this.state.budgetUsd = roundUsd(this.state.budgetUsd + amountUsd);
    // A budget block is lifted: the step that could not afford to run runs again.
    if (this.state.blocked?.kind === 'budget') this.unblock({ phase: 'step' });
    else this.port.publish();
    return this.result();
  }

  /** Applies a rollback or cancel (the running work, if any, has stopped). */
  applyInterrupt(request: Interrupt): void {
    const { state } = this;
    const because = `${request.by}${request.reason ? `: ${request.reason}` : ''}`;
    state.blocked = undefined;
    if (request.kind === 'pause') {
      // The stage's step runs again on resume: its stopped run left nothing a gate could check.
      this.block({ kind: 'paused', reason: `paused by ${because}` });
      return;
    }
    if (request.kind === 'changes-requested') {
      this.requestChangesByPerson(request.by, request.reason);
      return;
    }
    if (request.kind === 'cancel') {
      this.notify({ kind: 'cancelled', stage: state.stage, reason: `cancelled by ${because}` });
      this.closeVisit(`cancelled by ${because}`);
      state.status = 'cancelled';
      this.port.publish();
      return;
    }
    state.status = 'active';
    state.findings = [`Rolled back from ${state.stage} to ${request.toStage} by ${because}`];
    // Production rollback on a person's rollback from deploy: added with the deploy stages.
    if (state.productionTouched && this.port.patched('production-rollback')) {
      state.pendingProductionRollback = { by: request.by, reason: request.reason };
    }
    this.moveTo(request.toStage, `rolled back to ${request.toStage} by ${because}`);
  }

  takePendingSkip(gate: GateName) {
    const index = this.state.pendingSkips.findIndex((s) => s.gate === gate);
    return index >= 0 ? this.state.pendingSkips.splice(index, 1)[0] : undefined;
  }

  // ---- steps and gates ------------------------------------------------------------------------

  /** What the stage's step activity receives. */
  stepInput(step: StageStep): StepInput {
    const { state } = this;
    return {
      project: state.project,
      ticket: state.ticket,
      title: state.title,
      description: state.description,
      stage: state.stage,
      role: step.activity === 'runAgent' ? step.role : undefined,
      attempt: state.attempt,
      findings: [...state.findings],
      sessionId: state.sessions[state.stage],
      remainingBudgetUsd: roundUsd(Math.max(0, state.budgetUsd - state.costUsd)),
      branch: state.branch,
    };
  }

  /** What a gate activity receives. */
  gateInput(gate: GateName): GateInput {
    const { state } = this;
    return {
      project: state.project,
      ticket: state.ticket,
      stage: state.stage,
      gate,
      attempt: state.attempt,
      branch: state.branch,
    };
  }

  /** The ledger is checked before money is spent: true when the agent step may not run. */
  blockIfBudgetSpent(): boolean {
    if (this.state.costUsd < this.state.budgetUsd) return false;
    this.block({ kind: 'budget', reason: this.budgetReason() });
    return true;
  }

  /** Takes a step's result; false when the item may not go on to the gates. */
  applyStepResult(step: StageStep, outcome: StepResult): boolean {
    const { state } = this;
    state.costUsd = roundUsd(state.costUsd + outcome.costUsd);
    if (outcome.sessionId) state.sessions[state.stage] = outcome.sessionId;
    recordHead(state, outcome.head);
    if (outcome.stop) {
      // The run cost money and ended where a person must act (budget spent, credentials ...).
      this.block({
        kind: outcome.stop.kind,
        reason: outcome.stop.kind === 'budget' ? `${outcome.stop.reason}; ${this.budgetReason()}` : outcome.stop.reason,
      });
      return false;
    }
    // Stalls on the way and runs stopped in a loop: added with stall and loop detection.
    if ((outcome.incidents?.length || outcome.failed) && this.port.patched('agent-run-incidents')) {
      for (const incident of outcome.incidents ?? []) this.recordRunIncident(step, incident);
      if (outcome.failed) {
        this.recordRunIncident(step, outcome.failed.findings.join(' '));
        this.retryOrBlock(
          [...outcome.failed.findings],
          `the ${step.activity === 'runAgent' ? step.role : step.activity} run ended in a ${outcome.failed.kind}`,
        );
        return false;
      }
    }
    this.port.publish();
    return true;
  }

  /** A gate's verdict: true when it passed and the next gate may run. */
  applyGateOutcome(gate: GateName, gateIndex: number, outcome: GateOutcome): boolean {
    this.recordGate(gate, outcome.verdict, outcome.findings);
    if (outcome.verdict === 'PASS') return true;
    this.sendBack(gate, gateIndex, outcome);
    return false;
  }

  /**
   * The required CI contexts did not all report on the head in time (ADR-0025), at the CI gate
   * or before a merge: retry waits at that gate again.
   */
  blockCiTimeout(required: readonly string[], gate: GateName, gateIndex: number, timeoutMs: number): void {
    const { state } = this;
    this.block({
      kind: 'ci',
      reason: `CI did not report on ${state.headSha ?? 'the branch head'} within ${Math.round(timeoutMs / 1000)} s: waiting for ${ciMissing(state, required).join(', ')}`,
      gate,
      gateIndex,
    });
  }

  /** Every gate of the edge passed: on to the next stage. */
  passStage(): void {
    this.state.findings = [];
    this.moveTo(this.spec().next as Stage, 'passed');
  }

  /** A failed gate or REQUEST_CHANGES: back to the stage's failure target, or blocked past the cap. */
  sendBack(gate: GateName, gateIndex: number, outcome: GateOutcome): void {
    const { state, limits } = this;
    const findings =
      outcome.findings.length > 0
        ? [...outcome.findings]
        : [`gate ${gate} returned ${outcome.verdict} without findings`];
    state.findings = findings;
    const target = this.spec().onFailure ?? state.stage;
    if (outcome.verdict === 'REQUEST_CHANGES') {
      if (state.reviewRejections >= limits.maxReviewRejections) {
        this.block({
          kind: 'cap',
          reason: `review requested changes ${state.reviewRejections + 1} times; the limit is ${limits.maxReviewRejections} returns to ${target}`,
          gate,
          gateIndex,
        });
        return;
      }
      state.reviewRejections += 1;
    } else {
      if (state.gateRetries >= limits.maxGateRetries) {
        this.block({
          kind: 'cap',
          reason: `gate ${gate} failed on stage ${state.stage} after ${state.gateRetries} retries (limit ${limits.maxGateRetries})`,
          gate,
          gateIndex,
        });
        return;
      }
      state.gateRetries += 1;
    }
    this.moveTo(target, `${outcome.verdict} from gate ${gate}: sent to ${target}`);
  }

  /** A step that failed like a gate (an agent in a loop): its failure target, capped with the gate retries. */
  retryOrBlock(findings: string[], what: string): void {
    const { state, limits } = this;
    state.findings = findings;
    const target = this.spec().onFailure ?? state.stage;
    if (state.gateRetries >= limits.maxGateRetries) {
      this.block({
        kind: 'cap',
        reason: `${what} on stage ${state.stage} after ${state.gateRetries} retries (limit ${limits.maxGateRetries}): ${findings.join(' ')}`,
      });
      return;
    }
    state.gateRetries += 1;
    this.moveTo(target, `${what}: sent to ${target}`);
  }

  /** The production rollback a person asked for ended: on when it worked, else blocked. */
  applyProductionRollback(
    request: NonNullable<WorkItemState['pendingProductionRollback']>,
    outcome: { ok: boolean; detail: string },
  ): void {
    const { state } = this;
    if (state.status !== 'active' || state.pendingProductionRollback !== request) return;
    if (!outcome.ok) {
      this.block({
        kind: 'needs-person',
        reason: `production was not rolled back: ${outcome.detail}; roll it back by hand and approve, or retry`,
        productionRollback: true,
      });
      return;
    }
    state.pendingProductionRollback = undefined;
    state.findings.push(outcome.detail);
    this.port.publish();
  }

  budgetReason(): string {
    return `budget exhausted: spent $${this.state.costUsd.toFixed(2)} of $${this.state.budgetUsd.toFixed(2)}; top up the budget to continue`;
  }

  // ---- tracker notices ------------------------------------------------------------------------

  /** Notices wait while a tracker block stands (a person must act first). */
  noticesDeliverable(): boolean {
    return this.state.notices.length > 0 && this.state.blocked?.kind !== 'tracker';
  }

  /** A notice could not be delivered: a tracker block on an open item, else it is dropped. */
  noticeFailed(reason: string): void {
    const { state } = this;
    if (state.status === 'active' || state.status === 'blocked') {
      // Keep a block the item already had: clearing the tracker problem must not clear it.
      this.block({ kind: 'tracker', reason, underlying: state.status === 'blocked' ? state.blocked : undefined });
    } else {
      this.port.error('final tracker notice not delivered', { ticket: state.ticket, reason });
      state.notices.shift();
    }
  }

  /** The item is closed and its last notices could not be delivered: logged, and dropped. */
  dropUndeliveredNotices(reason: string): void {
    const { state } = this;
    this.port.error('final tracker notices not delivered', {
      ticket: state.ticket,
      reason,
      notices: state.notices.map((n) => n.seq),
    });
    state.notices.splice(0);
  }

  /**
   * The pull request a notice opened or found (for `orch status` and the Web UI). Read from an
   * activity's result, so it changes no command: histories without it replay unchanged.
   */
  recordPullRequest(pr: PullRequestRef | undefined): void {
    if (!pr || !Number.isSafeInteger(pr.number) || pr.number <= 0) return;
    const url = typeof pr.url === 'string' && /^https?:\/\//.test(pr.url) ? pr.url.slice(0, 2000) : undefined;
    const known = this.state.pullRequest;
    if (known?.number === pr.number && known.url === url) return;
    this.state.pullRequest = { number: pr.number, ...(url ? { url } : {}) };
    this.port.publish();
  }

  notify(notice: Omit<TrackerNotice, 'seq' | 'at'>): void {
    if (this.options.keepsNotices === false) return;
    this.state.noticeSeq += 1;
    this.state.notices.push({ ...notice, seq: this.state.noticeSeq, at: this.port.now() });
  }

  /** Ends a tracker block: back to the block underneath it, or on where the item was. */
  leaveTrackerBlock(blocked: BlockedInfo): void {
    if (blocked.underlying) {
      this.state.blocked = blocked.underlying;
      this.port.publish();
    } else {
      this.unblock(this.state.resume);
    }
  }

  // ---- state changes --------------------------------------------------------------------------

  moveTo(stage: Stage, outcome: string): void {
    const { state } = this;
    this.notify(
      stage === 'done'
        ? { kind: 'done', stage }
        : { kind: 'stage', stage, previousStage: state.stage, reason: outcome === 'passed' ? undefined : outcome },
    );
    this.closeVisit(outcome);
    state.productionTouched = undefined;
    state.history.push({ stage, enteredAt: this.port.now() });
    state.stage = stage;
    state.attempt = state.history.filter((v) => v.stage === stage).length;
    state.resume = undefined;
    if (stage === 'done') state.status = 'done';
    this.port.info('stage changed', { ticket: state.ticket, stage, outcome });
    this.port.publish();
  }

  /** The last stage has no step: the item is done. */
  finish(): void {
    this.state.status = 'done';
    this.port.publish();
  }

  closeVisit(outcome: string): void {
    const visit = this.state.history[this.state.history.length - 1];
    if (visit && visit.leftAt === undefined) {
      visit.leftAt = this.port.now();
      visit.outcome = outcome;
    }
  }

  block(info: Omit<BlockedInfo, 'stage' | 'at'>): void {
    const { state } = this;
    // A tracker failure is not itself told to the tracker (it would fail the same way).
    if (info.kind !== 'tracker')
      this.notify({ kind: 'blocked', stage: state.stage, reason: info.reason, gate: info.gate });
    state.status = 'blocked';
    state.blocked = { ...info, stage: state.stage, at: this.port.now() };
    this.port.warn('work item blocked', { ticket: state.ticket, stage: state.stage, reason: info.reason });
    this.port.publish();
  }

  unblock(resumeAt: ResumePoint | undefined): void {
    this.state.blocked = undefined;
    this.state.status = 'active';
    this.state.resume = resumeAt;
    this.port.publish();
  }

  recordGate(gate: GateName, verdict: GateRecord['verdict'], findings: readonly string[]): void {
    const { state } = this;
    pushBounded(
      state.gateResults,
      { stage: state.stage, gate, verdict, findings: [...findings], at: this.port.now() },
      100,
    );
    // Gate results reach the code host (commit status, PR comment): added after tracker-sync.
    if (this.options.keepsNotices !== false && this.port.patched('tracker-gate-notices'))
      this.notify({ kind: 'gate', stage: state.stage, gate, verdict, findings: [...findings] });
  }

  recordOverride(record: Omit<OverrideRecord, 'stage' | 'at'>): void {
    this.state.overrides.push({ ...record, stage: this.state.stage, at: this.port.now() });
    this.port.info('override', { ticket: this.state.ticket, kind: record.kind, by: record.by });
  }

  /**
   * The interrupt a person's REQUEST_CHANGES on the PR asks for: only while the PR is open for
   * review (review or testing, before the merge) and the item is not paused.
   */
  changesRequested(event: WorkItemEvent): Interrupt | undefined {
    const { state } = this;
    const review = event.changesRequested;
    if (typeof review?.by !== 'string' || typeof review.text !== 'string') return undefined;
    if (state.stage !== 'review' && state.stage !== 'testing') return undefined;
    if (state.status === 'blocked' && state.blocked?.kind === 'paused') return undefined;
    if (state.status !== 'active' && state.status !== 'blocked') return undefined;
    return { kind: 'changes-requested', by: review.by.slice(0, 100), reason: review.text.slice(0, 10_000) };
  }

  private requestChangesByPerson(by: string, text: string): void {
    const { state, limits } = this;
    state.status = 'active';
    if (state.reviewRejections >= limits.maxReviewRejections) {
      this.block({
        kind: 'cap',
        reason: `changes requested on the pull request by ${by}; review already returned the item ${state.reviewRejections} times (limit ${limits.maxReviewRejections})`,
      });
      return;
    }
    state.reviewRejections += 1;
    state.findings = [`Changes requested on the pull request by ${by}:\n${text}`];
    this.moveTo('development', `REQUEST_CHANGES by ${by} on the pull request: sent to development`);
  }

  /**
   * A person's approval of the PR at the item's head (any head when none is known): recorded, and
   * an item held at the approval gate goes on (ADR-0026).
   */
  private recordApproval(approved: NonNullable<WorkItemEvent['approved']>): void {
    const { state } = this;
    if (typeof approved.by !== 'string' || typeof approved.sha !== 'string') return;
    if (state.headSha && approved.sha !== state.headSha) {
      this.port.info('approval of an older commit ignored', { ticket: state.ticket, by: approved.by });
      return;
    }
    const by = approved.by.slice(0, 100);
    state.approvedBy = [...(state.approvedBy ?? []).filter((b) => b !== by), by].slice(-20);
    const blocked = state.blocked;
    if (blocked?.gate === 'approval' && blocked.gateIndex !== undefined) {
      this.recordGate('approval', 'PASS', [`approved on the pull request by ${by}`]);
      this.unblock({ phase: 'gates', fromGate: blocked.gateIndex + 1 });
    } else this.port.publish();
  }

  /** The approval gate: passes with a person's approval of the head, else holds the item for one. */
  applyApprovalGate(gateIndex: number): boolean {
    const by = this.state.approvedBy ?? [];
    if (by.length > 0) {
      this.recordGate('approval', 'PASS', [`approved on the pull request by ${by.join(', ')}`]);
      return true;
    }
    this.block({
      kind: 'needs-person',
      reason: "waiting for a person's approval of the pull request (or `orch approve`)",
      gate: 'approval',
      gateIndex,
    });
    return false;
  }

  /** A webhook or operator event, deduplicated by its key; false when it was not recorded. */
  recordEvent(event: WorkItemEvent): boolean {
    const { state, limits } = this;
    if (typeof event?.key !== 'string' || event.key === '' || typeof event.type !== 'string') {
      this.port.warn('event without key or type ignored', { ticket: state.ticket });
      return false;
    }
    if (state.seenEventKeys.includes(event.key)) {
      state.duplicateEventsIgnored += 1;
      return false;
    }
    pushBounded(state.seenEventKeys, event.key, limits.dedupKeysKept);
    pushBounded(
      state.events,
      { key: event.key, source: event.source, type: event.type, summary: event.summary, receivedAt: this.port.now() },
      limits.eventsKept,
    );
    if (event.title) state.title = event.title;
    if (event.description !== undefined) state.description = event.description;
    if (event.approved !== undefined) this.recordApproval(event.approved);
    if (event.ci !== undefined) {
      const status = validCiStatus(event.ci);
      // A status for a commit that is not the head (an older push, another branch) counts for nothing.
      if (status && recordCiStatus(state, status)) this.port.publish();
      else this.port.info('CI status not for the head ignored', { ticket: state.ticket, event: event.key });
    }
    // The ticket is back in its trigger state (or label): a paused item resumes its stage's step.
    if (event.type === 'ticket.created' && state.blocked?.kind === 'paused') {
      this.recordOverride({ kind: 'retry', by: event.source, reason: `resumed: ${event.summary ?? event.type}` });
      this.unblock({ phase: 'step' });
    }
    return true;
  }

  /** A run was lost with its host (ADR-0021): recorded, and started again on another host. */
  recordLostRun(work: string, lost: LostRun): void {
    const { state } = this;
    const at = this.port.now();
    (state.lostRuns ??= []).push({
      stage: state.stage,
      attempt: state.attempt,
      work,
      host: lost.host,
      reason: lost.reason,
      at,
    });
    pushBounded(
      state.events,
      {
        key: `host-lost:${state.stage}:${state.attempt}:${state.lostRuns.length}`,
        source: 'system',
        type: 'host.lost',
        summary: `${work} was lost with host ${lost.host} (${lost.reason}); it starts again on another host${lost.changedFiles.length > 0 ? `; unpushed changes lost: ${lost.changedFiles.join(', ')}` : ''}`,
        receivedAt: at,
      },
      this.limits.eventsKept,
    );
    this.port.warn('work lost with its host; moving it to another host', {
      ticket: state.ticket,
      work,
      host: lost.host,
    });
    this.port.publish();
  }

  /** A host queue that ran this item's work. */
  recordHostQueue(queue: string): void {
    const queues = (this.state.hostQueues ??= []);
    if (!queues.includes(queue)) queues.push(queue);
  }

  recordRunIncident(step: StageStep, summary: string): void {
    const { state } = this;
    pushBounded(
      state.events,
      {
        key: `run:${state.stage}:${state.attempt}:${state.events.length}`,
        source: 'system',
        type: `agent.${step.activity === 'runAgent' ? step.role : step.activity}`,
        summary,
        receivedAt: this.port.now(),
      },
      this.limits.eventsKept,
    );
  }
}

/** Dollars to a hundredth of a cent: summing float costs must not drift in the ledger. */
export function roundUsd(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
