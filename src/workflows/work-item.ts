// The work-item workflow: one long-lived execution per ticket that walks the stage graph.
// Per stage: run the step (agent or deploy), run the gates of the outgoing edge, transition.
// Business outcomes never fail the workflow: past a cap or on an error a person must fix, the
// item is blocked and waits for an override.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SA_ATTEMPT,
  SA_BLOCKED,
  SA_COST,
  SA_PROJECT,
  SA_STAGE,
  SA_TICKET,
  STAGE_GRAPH,
  itemBranch,
  pushBounded,
  validateApprove,
  validateCancel,
  validateRetry,
  validateRollback,
  validateSkipGate,
  validateTopUp,
  type BlockedInfo,
  type GateInput,
  type GateName,
  type GateOutcome,
  type GateRecord,
  type OverrideRecord,
  type Stage,
  type StageSpec,
  type StageStep,
  type StepInput,
  type StepResult,
  type TrackerNotice,
  type WorkItemActivities,
  type WorkItemEvent,
  type WorkItemInput,
  type WorkItemState,
} from '../domain';
import {
  FAILURE_BUDGET,
  FAILURE_NEEDS_PERSON,
  FAILURE_NOT_IMPLEMENTED,
  approveUpdate,
  cancelUpdate,
  eventSignal,
  retryUpdate,
  rollbackUpdate,
  skipGateUpdate,
  stateQuery,
  topUpBudgetUpdate,
  type OverrideResult,
} from './messages';
import { initialState } from './initial-state';
import { leaseGrantedSignal, leaseReleaseSignal } from './lease-messages';
import { renderDetails } from './details';

/** A rollback or cancel asked for while a step or gate is running: it cancels that work first. */
type Interrupt =
  | { readonly kind: 'rollback'; readonly toStage: Stage; readonly by: string; readonly reason?: string }
  | { readonly kind: 'cancel'; readonly by: string; readonly reason?: string };

export async function workItem(input: WorkItemInput): Promise<WorkItemState> {
  const state: WorkItemState = input.carried ?? initialState(input, now());
  const { limits, timeouts } = input;
  const retry = {
    initialInterval: timeouts.retryInitialIntervalMs,
    maximumAttempts: timeouts.retryMaximumAttempts,
    nonRetryableErrorTypes: [FAILURE_NOT_IMPLEMENTED, FAILURE_NEEDS_PERSON],
  };
  // Steps work in the item's checkout: after a rollback or cancel the next step must not start
  // until the cancelled one has really stopped, hence WAIT_CANCELLATION_COMPLETED.
  const agent = proxyActivities<WorkItemActivities>({
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: timeouts.agentMs,
    heartbeatTimeout: timeouts.heartbeatMs,
    retry,
  });
  const deploy = proxyActivities<WorkItemActivities>({
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: timeouts.deployMs,
    heartbeatTimeout: timeouts.heartbeatMs,
    retry,
  });
  const gates = proxyActivities<WorkItemActivities>({
    startToCloseTimeout: timeouts.gateMs,
    heartbeatTimeout: timeouts.heartbeatMs,
    retry,
  });

  // Telling the tracker must not be lost to a flaky API: more attempts than other activities.
  const tracker = proxyActivities<WorkItemActivities>({
    startToCloseTimeout: timeouts.gateMs,
    retry: { ...retry, maximumAttempts: Math.max(timeouts.retryMaximumAttempts, 5) },
  });

  // Fields added after the first release: a state carried from an older run may lack them.
  state.notices ??= [];
  state.noticeSeq ??= 0;
  state.branch ??= itemBranch(state.ticket, state.title);

  let stageScope: CancellationScope | undefined;
  let interrupt: Interrupt | undefined;
  /** The last answer of patched('tracker-sync'), asked where notices are delivered. */
  let trackerSyncOn: boolean | undefined;

  // ---- messages -------------------------------------------------------------------------------

  setHandler(stateQuery, () => state);
  setHandler(eventSignal, (event) => recordEvent(event));
  /** Merge-lease grants received (request ids); a grant is used once. */
  const leaseGrants = new Set<string>();
  setHandler(leaseGrantedSignal, (grant) => {
    leaseGrants.add(grant.requestId);
  });

  const noInterruptPending = (): void => {
    if (interrupt) throw new Error(`another ${interrupt.kind} is being applied to ${state.ticket}; try again`);
  };

  setHandler(
    approveUpdate,
    (args) => {
      recordOverride({ kind: 'approve', by: args.by, reason: args.reason });
      const blocked = state.blocked;
      if (blocked?.productionRollback) {
        // A person vouches that production is fine (rolled back by hand): the item goes on.
        state.pendingProductionRollback = undefined;
        unblock(undefined);
        return result();
      }
      if (blocked?.kind === 'tracker') {
        // A person accepts that the tracker misses this notice.
        state.notices.shift();
        leaveTrackerBlock(blocked);
        return result();
      }
      if (blocked?.gate !== undefined && blocked.gateIndex !== undefined) {
        recordGate(blocked.gate, 'APPROVED_BY_PERSON', [`approved by ${args.by}${args.reason ? `: ${args.reason}` : ''}`]);
        unblock({ phase: 'gates', fromGate: blocked.gateIndex + 1 });
      } else {
        // The step failed and a person vouches for its result: go on to the gates.
        unblock({ phase: 'gates', fromGate: 0 });
      }
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateApprove(state, args); } },
  );

  setHandler(
    retryUpdate,
    (args) => {
      recordOverride({ kind: 'retry', by: args.by, reason: args.reason });
      // A tracker block retries the notice; any other block re-runs the stage from its step.
      if (state.blocked?.kind === 'tracker') leaveTrackerBlock(state.blocked);
      else unblock({ phase: 'step' });
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateRetry(state, args); } },
  );

  setHandler(
    skipGateUpdate,
    (args) => {
      const gate = validateSkipGate(state, args);
      recordOverride({ kind: 'skip-gate', by: args.by, reason: args.reason, gate });
      const blocked = state.blocked;
      if (blocked?.gate === gate && blocked.gateIndex !== undefined) {
        recordGate(gate, 'SKIPPED', [`skipped by ${args.by}: ${args.reason}`]);
        unblock({ phase: 'gates', fromGate: blocked.gateIndex + 1 });
      } else {
        state.pendingSkips.push({ gate, by: args.by, reason: args.reason });
      }
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateSkipGate(state, args); } },
  );

  setHandler(
    rollbackUpdate,
    async (args) => {
      const toStage = validateRollback(state, args);
      recordOverride({ kind: 'rollback', by: args.by, reason: args.reason, toStage });
      await interruptOrApply({ kind: 'rollback', toStage, by: args.by, reason: args.reason });
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateRollback(state, args); } },
  );

  setHandler(
    cancelUpdate,
    async (args) => {
      recordOverride({ kind: 'cancel', by: args.by, reason: args.reason });
      await interruptOrApply({ kind: 'cancel', by: args.by, reason: args.reason });
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateCancel(state, args); } },
  );

  setHandler(
    topUpBudgetUpdate,
    (args) => {
      const amountUsd = validateTopUp(state, args);
      recordOverride({ kind: 'top-up', by: args.by, reason: args.reason, amountUsd });
      state.budgetUsd = roundUsd(state.budgetUsd + amountUsd);
      // A budget block is lifted: the step that could not afford to run runs again.
      if (state.blocked?.kind === 'budget') unblock({ phase: 'step' });
      else publish();
      return result();
    },
    { validator: (args) => { noInterruptPending(); validateTopUp(state, args); } },
  );

  // ---- main loop ------------------------------------------------------------------------------

  if (!input.carried) {
    log.info('work item started', { project: state.project, ticket: state.ticket });
  }
  publish();

  while (state.status === 'active' || state.status === 'blocked') {
    if (interrupt) {
      applyInterrupt(interrupt);
      interrupt = undefined;
      continue;
    }
    if (continueAsNewDue()) {
      // Let running update handlers finish first; an interrupt arriving meanwhile is applied first.
      await condition(() => allHandlersFinished() || interrupt !== undefined);
      if (interrupt) continue;
      state.generation += 1;
      await continueAsNew<typeof workItem>({ ...input, carried: state });
    }
    if (noticesDeliverable() && (trackerSyncOn = patched('tracker-sync'))) {
      await deliverNotices();
      continue;
    }
    if (state.status === 'blocked') {
      // Wakes for deliverable notices only when tracker sync is on: replaying a history from
      // before the patch must not spin on notices it will never send.
      await condition(() => state.status !== 'blocked' || interrupt !== undefined || continueAsNewDue() || (noticesDeliverable() && trackerSyncOn !== false));
      continue;
    }
    if (state.pendingProductionRollback) {
      await rollBackProduction(state.pendingProductionRollback);
      continue;
    }
    await runStage(STAGE_GRAPH[state.stage]);
  }

  // The last word (done or cancelled) still reaches the tracker; nothing can block any more.
  if (noticesDeliverable() && patched('tracker-sync')) await deliverNotices();
  // A delivered item's checkout is removed; a cancelled one is kept for inspection
  // (`orch workspaces clean` removes it). Added with the agent runner.
  if (state.status === 'done' && patched('workspace-release')) await releaseWorkspace();
  await condition(allHandlersFinished);
  return state;

  // ---- tracker --------------------------------------------------------------------------------

  /** Delivers pending notices in order; a failure blocks the item (kind `tracker`) while it is open. */
  async function deliverNotices(): Promise<void> {
    while (state.notices.length > 0) {
      const notice = state.notices[0] as TrackerNotice;
      try {
        await tracker.syncTracker({ project: state.project, ticket: state.ticket, title: state.title, branch: state.branch, notice });
      } catch (err) {
        const info = blockFromActivityError(err, 'syncTracker');
        if (state.status === 'active' || state.status === 'blocked') {
          // Keep a block the item already had: clearing the tracker problem must not clear it.
          block({ kind: 'tracker', reason: info.reason, underlying: state.status === 'blocked' ? state.blocked : undefined });
        } else {
          log.error('final tracker notice not delivered', { ticket: state.ticket, reason: info.reason });
          state.notices.shift();
        }
        return;
      }
      state.notices.shift();
    }
  }

  /** Notices wait while a tracker block stands (a person must act first). */
  function noticesDeliverable(): boolean {
    return state.notices.length > 0 && state.blocked?.kind !== 'tracker';
  }

  function notify(notice: Omit<TrackerNotice, 'seq' | 'at'>): void {
    state.noticeSeq += 1;
    state.notices.push({ ...notice, seq: state.noticeSeq, at: now() });
  }

  async function releaseWorkspace(): Promise<void> {
    try {
      await tracker.releaseWorkspace({ project: state.project, ticket: state.ticket });
    } catch (err) {
      // Nothing can block any more: a leftover checkout is a disk-space matter, not the item's.
      log.warn('workspace not removed', { ticket: state.ticket, reason: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- stage execution ------------------------------------------------------------------------

  async function runStage(spec: StageSpec): Promise<void> {
    if (!spec.next) {
      state.status = 'done';
      publish();
      return;
    }
    const resume = state.resume ?? { phase: 'step' };
    state.resume = undefined;
    const scope = new CancellationScope();
    stageScope = scope;
    try {
      await scope.run(async () => {
        if (resume.phase === 'step' && spec.step && !(await runStep(spec.step, spec))) return;
        await runGates(spec, resume.phase === 'gates' ? resume.fromGate : 0);
      });
    } catch (err) {
      // Cancelled by a rollback or cancel override: the loop applies it next.
      if (interrupt && isCancellation(err)) return;
      throw err;
    } finally {
      stageScope = undefined;
    }
  }

  /** Runs the stage's step; false when the item got blocked. */
  async function runStep(step: StageStep, spec: StageSpec): Promise<boolean> {
    const stepInput: StepInput = {
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
    // The ledger is checked before money is spent; added with the agent runner.
    if (step.activity === 'runAgent' && state.costUsd >= state.budgetUsd && patched('agent-budget')) {
      block({ kind: 'budget', reason: budgetReason() });
      return false;
    }
    let outcome: StepResult;
    try {
      if (step.activity === 'runAgent') outcome = await agent.runAgent(stepInput);
      else if (step.activity === 'deployStaging') outcome = await deploy.deployStaging(stepInput);
      else {
        // From here on production may run this item's code: a rollback override must undo it.
        state.productionTouched = true;
        outcome = await deploy.deployProduction(stepInput);
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      block(blockFromActivityError(err, step.activity));
      return false;
    }
    state.costUsd = roundUsd(state.costUsd + outcome.costUsd);
    if (outcome.sessionId) state.sessions[state.stage] = outcome.sessionId;
    if (outcome.stop) {
      // The run cost money and ended where a person must act (budget spent, credentials ...).
      block({ kind: outcome.stop.kind, reason: outcome.stop.kind === 'budget' ? `${outcome.stop.reason}; ${budgetReason()}` : outcome.stop.reason });
      return false;
    }
    // Stalls on the way and runs stopped in a loop: added with stall and loop detection.
    if ((outcome.incidents?.length || outcome.failed) && patched('agent-run-incidents')) {
      for (const incident of outcome.incidents ?? []) recordRunIncident(step, incident);
      if (outcome.failed) {
        recordRunIncident(step, outcome.failed.findings.join(' '));
        retryOrBlock(spec, [...outcome.failed.findings], `the ${step.activity === 'runAgent' ? step.role : step.activity} run ended in a ${outcome.failed.kind}`);
        return false;
      }
    }
    publish();
    return true;
  }

  function recordRunIncident(step: StageStep, summary: string): void {
    pushBounded(
      state.events,
      { key: `run:${state.stage}:${state.attempt}:${state.events.length}`, source: 'system', type: `agent.${step.activity === 'runAgent' ? step.role : step.activity}`, summary, receivedAt: now() },
      limits.eventsKept,
    );
  }

  function budgetReason(): string {
    return `budget exhausted: spent $${state.costUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}; top up the budget to continue`;
  }

  async function runGates(spec: StageSpec, fromGate: number): Promise<void> {
    for (let i = fromGate; i < spec.gates.length; i++) {
      const gate = spec.gates[i] as GateName;
      const skip = takePendingSkip(gate);
      if (skip) {
        recordGate(gate, 'SKIPPED', [`skipped by ${skip.by}: ${skip.reason}`]);
        continue;
      }
      let outcome: GateOutcome;
      try {
        const gateInput: GateInput = { project: state.project, ticket: state.ticket, stage: state.stage, gate, attempt: state.attempt, branch: state.branch };
        // Two items of one repository never merge at once (added with the merge gate).
        outcome = gate === 'merge' && patched('merge-lease') ? await underMergeLease(() => gates.runGate(gateInput)) : await gates.runGate(gateInput);
      } catch (err) {
        if (isCancellation(err)) throw err;
        block({ ...blockFromActivityError(err, `runGate(${gate})`), gate, gateIndex: i });
        return;
      }
      recordGate(gate, outcome.verdict, outcome.findings);
      if (outcome.verdict !== 'PASS') {
        sendBack(spec, gate, i, outcome);
        return;
      }
    }
    state.findings = [];
    moveTo(spec.next as Stage, 'passed');
  }

  /**
   * Queues for the repository's merge lease, runs `merge` once granted, and releases the lease
   * whatever happens (also when a rollback or cancel interrupts the wait or the merge).
   */
  async function underMergeLease(merge: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const holder = workflowInfo().workflowId;
    const requestId = uuid4();
    const filed = await gates.requestMergeLease({ project: state.project, ticket: state.ticket, holder, requestId });
    const leaseId = filed.leaseWorkflowId;
    if (!leaseId) return merge();
    try {
      setCurrentDetails(`${renderDetails(state)}\n\nWaiting for the merge lease (${leaseId}).`);
      await condition(() => leaseGrants.has(requestId));
      setCurrentDetails(renderDetails(state));
      return await merge();
    } finally {
      leaseGrants.delete(requestId);
      await CancellationScope.nonCancellable(async () => {
        try {
          await getExternalWorkflowHandle(leaseId).signal(leaseReleaseSignal, { holder, requestId });
        } catch (err) {
          // A lease that is gone holds nothing; its successor will not know this request.
          log.warn('merge lease not released', { ticket: state.ticket, lease: leaseId, reason: err instanceof Error ? err.message : String(err) });
        }
      });
    }
  }

  /** A failed gate or REQUEST_CHANGES: back to the stage's failure target, or blocked past the cap. */
  function sendBack(spec: StageSpec, gate: GateName, gateIndex: number, outcome: GateOutcome): void {
    const findings = outcome.findings.length > 0 ? [...outcome.findings] : [`gate ${gate} returned ${outcome.verdict} without findings`];
    state.findings = findings;
    const target = spec.onFailure ?? state.stage;
    if (outcome.verdict === 'REQUEST_CHANGES') {
      if (state.reviewRejections >= limits.maxReviewRejections) {
        block({
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
        block({
          kind: 'cap',
          reason: `gate ${gate} failed on stage ${state.stage} after ${state.gateRetries} retries (limit ${limits.maxGateRetries})`,
          gate,
          gateIndex,
        });
        return;
      }
      state.gateRetries += 1;
    }
    moveTo(target, `${outcome.verdict} from gate ${gate}: sent to ${target}`);
  }

  /** A step that failed like a gate (an agent in a loop): its failure target, capped with the gate retries. */
  function retryOrBlock(spec: StageSpec, findings: string[], what: string): void {
    state.findings = findings;
    const target = spec.onFailure ?? state.stage;
    if (state.gateRetries >= limits.maxGateRetries) {
      block({ kind: 'cap', reason: `${what} on stage ${state.stage} after ${state.gateRetries} retries (limit ${limits.maxGateRetries}): ${findings.join(' ')}` });
      return;
    }
    state.gateRetries += 1;
    moveTo(target, `${what}: sent to ${target}`);
  }

  // ---- overrides ------------------------------------------------------------------------------

  async function interruptOrApply(request: Interrupt): Promise<void> {
    if (state.status === 'blocked' || !stageScope) {
      state.blocked = undefined;
      applyInterrupt(request);
      return;
    }
    interrupt = request;
    stageScope.cancel();
    await condition(() => interrupt === undefined);
  }

  function applyInterrupt(request: Interrupt): void {
    const because = `${request.by}${request.reason ? `: ${request.reason}` : ''}`;
    state.blocked = undefined;
    if (request.kind === 'cancel') {
      notify({ kind: 'cancelled', stage: state.stage, reason: `cancelled by ${because}` });
      closeVisit(`cancelled by ${because}`);
      state.status = 'cancelled';
      publish();
      return;
    }
    state.status = 'active';
    state.findings = [`Rolled back from ${state.stage} to ${request.toStage} by ${because}`];
    // Production rollback on a person's rollback from deploy: added with the deploy stages.
    if (state.productionTouched && patched('production-rollback')) {
      state.pendingProductionRollback = { by: request.by, reason: request.reason };
    }
    moveTo(request.toStage, `rolled back to ${request.toStage} by ${because}`);
  }

  /**
   * Runs the project's rollback command after a person rolled the item back from deploy. Fails
   * closed: when production could not be rolled back the item blocks until a person retries
   * (runs it again) or approves (production was put right by hand).
   */
  async function rollBackProduction(request: NonNullable<WorkItemState['pendingProductionRollback']>): Promise<void> {
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await deploy.rollbackProduction({ project: state.project, ticket: state.ticket, branch: state.branch, by: request.by, reason: request.reason });
    } catch (err) {
      if (isCancellation(err)) throw err;
      outcome = { ok: false, detail: blockFromActivityError(err, 'rollbackProduction').reason };
    }
    if (state.status !== 'active' || state.pendingProductionRollback !== request) return;
    if (!outcome.ok) {
      block({ kind: 'needs-person', reason: `production was not rolled back: ${outcome.detail}; roll it back by hand and approve, or retry`, productionRollback: true });
      return;
    }
    state.pendingProductionRollback = undefined;
    state.findings.push(outcome.detail);
    publish();
  }

  /** Ends a tracker block: back to the block underneath it, or on where the item was. */
  function leaveTrackerBlock(blocked: BlockedInfo): void {
    if (blocked.underlying) {
      state.blocked = blocked.underlying;
      publish();
    } else {
      unblock(state.resume);
    }
  }

  function unblock(resumeAt: WorkItemState['resume']): void {
    state.blocked = undefined;
    state.status = 'active';
    state.resume = resumeAt;
    publish();
  }

  function takePendingSkip(gate: GateName) {
    const index = state.pendingSkips.findIndex((s) => s.gate === gate);
    return index >= 0 ? state.pendingSkips.splice(index, 1)[0] : undefined;
  }

  // ---- state changes --------------------------------------------------------------------------

  function moveTo(stage: Stage, outcome: string): void {
    notify(stage === 'done' ? { kind: 'done', stage } : { kind: 'stage', stage, previousStage: state.stage, reason: outcome === 'passed' ? undefined : outcome });
    closeVisit(outcome);
    state.productionTouched = undefined;
    state.history.push({ stage, enteredAt: now() });
    state.stage = stage;
    state.attempt = state.history.filter((v) => v.stage === stage).length;
    state.resume = undefined;
    if (stage === 'done') state.status = 'done';
    log.info('stage changed', { ticket: state.ticket, stage, outcome });
    publish();
  }

  function closeVisit(outcome: string): void {
    const visit = state.history[state.history.length - 1];
    if (visit && visit.leftAt === undefined) {
      visit.leftAt = now();
      visit.outcome = outcome;
    }
  }

  function block(info: Omit<BlockedInfo, 'stage' | 'at'>): void {
    // A tracker failure is not itself told to the tracker (it would fail the same way).
    if (info.kind !== 'tracker') notify({ kind: 'blocked', stage: state.stage, reason: info.reason, gate: info.gate });
    state.status = 'blocked';
    state.blocked = { ...info, stage: state.stage, at: now() };
    log.warn('work item blocked', { ticket: state.ticket, stage: state.stage, reason: info.reason });
    publish();
  }

  function recordGate(gate: GateName, verdict: GateRecord['verdict'], findings: readonly string[]): void {
    pushBounded(state.gateResults, { stage: state.stage, gate, verdict, findings: [...findings], at: now() }, 100);
    // Gate results reach the code host (commit status, PR comment): added after tracker-sync.
    if (patched('tracker-gate-notices')) notify({ kind: 'gate', stage: state.stage, gate, verdict, findings: [...findings] });
  }

  function recordOverride(record: Omit<OverrideRecord, 'stage' | 'at'>): void {
    state.overrides.push({ ...record, stage: state.stage, at: now() });
    log.info('override', { ticket: state.ticket, kind: record.kind, by: record.by });
  }

  function recordEvent(event: WorkItemEvent): void {
    if (typeof event?.key !== 'string' || event.key === '' || typeof event.type !== 'string') {
      log.warn('event without key or type ignored', { ticket: state.ticket });
      return;
    }
    if (state.seenEventKeys.includes(event.key)) {
      state.duplicateEventsIgnored += 1;
      return;
    }
    pushBounded(state.seenEventKeys, event.key, limits.dedupKeysKept);
    pushBounded(
      state.events,
      { key: event.key, source: event.source, type: event.type, summary: event.summary, receivedAt: now() },
      limits.eventsKept,
    );
    if (event.title) state.title = event.title;
    if (event.description !== undefined) state.description = event.description;
  }

  /** Search attributes and Web UI details follow every state change. */
  function publish(): void {
    upsertSearchAttributes([
      { key: SA_PROJECT, value: state.project },
      { key: SA_TICKET, value: state.ticket },
      { key: SA_STAGE, value: state.stage },
      { key: SA_BLOCKED, value: state.status === 'blocked' },
      { key: SA_ATTEMPT, value: state.attempt },
      { key: SA_COST, value: state.costUsd },
    ]);
    setCurrentDetails(renderDetails(state));
  }

  function continueAsNewDue(): boolean {
    const info = workflowInfo();
    const limit = input.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  }

  function result(): OverrideResult {
    return { ticket: state.ticket, stage: state.stage, status: state.status };
  }
}

function now(): string {
  // Date is deterministic inside the workflow sandbox (it is the workflow task's time).
  return new Date().toISOString();
}

/** Failure types an activity throws when a person must act, and the block each becomes. */
const PERSON_FAILURES: Readonly<Record<string, BlockedInfo['kind']>> = {
  [FAILURE_NOT_IMPLEMENTED]: 'not-implemented',
  [FAILURE_NEEDS_PERSON]: 'needs-person',
  [FAILURE_BUDGET]: 'budget',
};

function blockFromActivityError(err: unknown, activity: string): Omit<BlockedInfo, 'stage' | 'at'> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const kind = cause instanceof ApplicationFailure && cause.type ? PERSON_FAILURES[cause.type] : undefined;
  if (kind) return { kind, reason: (cause as ApplicationFailure).message };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { kind: 'activity-error', reason: `${activity} failed: ${message}` };
}

/** Dollars to a hundredth of a cent: summing float costs must not drift in the ledger. */
function roundUsd(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
