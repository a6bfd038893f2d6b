// The work-item workflow: one long-lived execution per ticket that walks the stage graph. This
// file is the Temporal plumbing only: activity proxies, message handlers, cancellation scopes, the
// merge-lease wait, continue-as-new and `patched()`. The rules (moving, blocking, sending back,
// overrides, caps) live in the plain WorkItemMachine (src/domain/work-item-machine.ts).
import {
  ActivityCancellationType,
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
  WorkItemMachine,
  itemBranch,
  roundUsd,
  validateApprove,
  validateCancel,
  validateRetry,
  validateRollback,
  validateSkipGate,
  validateTopUp,
  type GateInput,
  type GateName,
  type GateOutcome,
  type Interrupt,
  type MachinePort,
  type StageSpec,
  type StageStep,
  type StepInput,
  type StepResult,
  type TrackerNotice,
  type WorkItemActivities,
  type WorkItemInput,
  type WorkItemState,
} from '../domain';
import { blockFromActivityError, RETRY_NEVER } from './activity-errors';
import { renderDetails } from './details';
import { initialState } from './initial-state';
import { leaseGrantedSignal, leaseReleaseSignal } from './lease-messages';
import { approveUpdate, cancelUpdate, eventSignal, retryUpdate, rollbackUpdate, skipGateUpdate, stateQuery, topUpBudgetUpdate } from './messages';

export async function workItem(input: WorkItemInput): Promise<WorkItemState> {
  const state: WorkItemState = input.carried ?? initialState(input, now());
  const { limits, timeouts } = input;
  const retry = { initialInterval: timeouts.retryInitialIntervalMs, maximumAttempts: timeouts.retryMaximumAttempts, nonRetryableErrorTypes: RETRY_NEVER };
  // Proxies by timeout class. Steps work in the item's checkout: after a rollback or cancel the
  // next step must not start until the cancelled one has really stopped.
  const agentSteps = proxyActivities<WorkItemActivities>({ cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, startToCloseTimeout: timeouts.agentMs, heartbeatTimeout: timeouts.heartbeatMs, retry });
  const deploySteps = proxyActivities<WorkItemActivities>({ cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, startToCloseTimeout: timeouts.deployMs, heartbeatTimeout: timeouts.heartbeatMs, retry });
  const gateCalls = proxyActivities<WorkItemActivities>({ startToCloseTimeout: timeouts.gateMs, heartbeatTimeout: timeouts.heartbeatMs, retry });
  // Telling the tracker must not be lost to a flaky API: more attempts than other activities.
  const noticeCalls = proxyActivities<WorkItemActivities>({ startToCloseTimeout: timeouts.gateMs, retry: { ...retry, maximumAttempts: Math.max(timeouts.retryMaximumAttempts, 5) } });

  // Fields added after the first release: a state carried from an older run may lack them.
  state.notices ??= [];
  state.noticeSeq ??= 0;
  state.branch ??= itemBranch(state.ticket, state.title);

  const port: MachinePort = { now, publish, patched, info: (m, f) => log.info(m, f), warn: (m, f) => log.warn(m, f), error: (m, f) => log.error(m, f) };
  const machine = new WorkItemMachine(state, limits, port);
  let stageScope: CancellationScope | undefined;
  let interrupt: Interrupt | undefined;
  /** The last answer of patched('tracker-sync'), asked where notices are delivered. */
  let trackerSyncOn: boolean | undefined;
  /** Merge-lease grants received (request ids); a grant is used once. */
  const leaseGrants = new Set<string>();

  // ---- messages -------------------------------------------------------------------------------

  setHandler(stateQuery, () => state);
  setHandler(eventSignal, (event) => machine.recordEvent(event));
  setHandler(leaseGrantedSignal, (grant) => {
    leaseGrants.add(grant.requestId);
  });
  const noInterruptPending = (): void => {
    if (interrupt) throw new Error(`another ${interrupt.kind} is being applied to ${state.ticket}; try again`);
  };
  setHandler(approveUpdate, (args) => machine.approve(args), { validator: (args) => void (noInterruptPending(), validateApprove(state, args)) });
  setHandler(retryUpdate, (args) => machine.retry(args), { validator: (args) => void (noInterruptPending(), validateRetry(state, args)) });
  setHandler(skipGateUpdate, (args) => machine.skipGate(args, validateSkipGate(state, args)), { validator: (args) => void (noInterruptPending(), validateSkipGate(state, args)) });
  setHandler(topUpBudgetUpdate, (args) => machine.topUp(args, validateTopUp(state, args)), { validator: (args) => void (noInterruptPending(), validateTopUp(state, args)) });
  setHandler(
    rollbackUpdate,
    async (args) => {
      const toStage = validateRollback(state, args);
      machine.recordOverride({ kind: 'rollback', by: args.by, reason: args.reason, toStage });
      await interruptOrApply({ kind: 'rollback', toStage, by: args.by, reason: args.reason });
      return machine.result();
    },
    { validator: (args) => void (noInterruptPending(), validateRollback(state, args)) },
  );
  setHandler(
    cancelUpdate,
    async (args) => {
      machine.recordOverride({ kind: 'cancel', by: args.by, reason: args.reason });
      await interruptOrApply({ kind: 'cancel', by: args.by, reason: args.reason });
      return machine.result();
    },
    { validator: (args) => void (noInterruptPending(), validateCancel(state, args)) },
  );

  // ---- main loop ------------------------------------------------------------------------------

  if (!input.carried) log.info('work item started', { project: state.project, ticket: state.ticket });
  publish();

  while (state.status === 'active' || state.status === 'blocked') {
    if (interrupt) {
      machine.applyInterrupt(interrupt);
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
    if (machine.noticesDeliverable() && (trackerSyncOn = patched('tracker-sync'))) {
      await deliverNotices();
      continue;
    }
    if (state.status === 'blocked') {
      // Wakes for deliverable notices only when tracker sync is on: replaying a history from
      // before the patch must not spin on notices it will never send.
      await condition(() => state.status !== 'blocked' || interrupt !== undefined || continueAsNewDue() || (machine.noticesDeliverable() && trackerSyncOn !== false));
      continue;
    }
    if (state.pendingProductionRollback) {
      await rollBackProduction(state.pendingProductionRollback);
      continue;
    }
    await runStage(machine.spec());
  }

  // The last word (done or cancelled) still reaches the tracker; nothing can block any more.
  if (machine.noticesDeliverable() && patched('tracker-sync')) await deliverNotices();
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
        await noticeCalls.syncTracker({ project: state.project, ticket: state.ticket, title: state.title, branch: state.branch, notice });
      } catch (err) {
        machine.noticeFailed(blockFromActivityError(err, 'syncTracker').reason);
        return;
      }
      state.notices.shift();
    }
  }

  async function releaseWorkspace(): Promise<void> {
    try {
      await noticeCalls.releaseWorkspace({ project: state.project, ticket: state.ticket });
    } catch (err) {
      // Nothing can block any more: a leftover checkout is a disk-space matter, not the item's.
      log.warn('workspace not removed', { ticket: state.ticket, reason: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- stage execution ------------------------------------------------------------------------

  async function runStage(spec: StageSpec): Promise<void> {
    if (!spec.next) {
      machine.finish();
      return;
    }
    const resume = state.resume ?? { phase: 'step' };
    state.resume = undefined;
    const scope = new CancellationScope();
    stageScope = scope;
    try {
      await scope.run(async () => {
        if (resume.phase === 'step' && spec.step && !(await runStep(spec.step))) return;
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

  /** Runs the stage's step; false when the item got blocked or sent back. */
  async function runStep(step: StageStep): Promise<boolean> {
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
      machine.blockIfBudgetSpent();
      return false;
    }
    let outcome: StepResult;
    try {
      if (step.activity === 'runAgent') outcome = await agentSteps.runAgent(stepInput);
      else if (step.activity === 'deployStaging') outcome = await deploySteps.deployStaging(stepInput);
      else {
        // From here on production may run this item's code: a rollback override must undo it.
        state.productionTouched = true;
        outcome = await deploySteps.deployProduction(stepInput);
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      machine.block(blockFromActivityError(err, step.activity));
      return false;
    }
    return machine.applyStepResult(step, outcome);
  }

  async function runGates(spec: StageSpec, fromGate: number): Promise<void> {
    for (let i = fromGate; i < spec.gates.length; i++) {
      const gate = spec.gates[i] as GateName;
      const skip = machine.takePendingSkip(gate);
      if (skip) {
        machine.recordGate(gate, 'SKIPPED', [`skipped by ${skip.by}: ${skip.reason}`]);
        continue;
      }
      let outcome: GateOutcome;
      try {
        const gateInput: GateInput = { project: state.project, ticket: state.ticket, stage: state.stage, gate, attempt: state.attempt, branch: state.branch };
        // Two items of one repository never merge at once (added with the merge gate).
        outcome = gate === 'merge' && patched('merge-lease') ? await underMergeLease(() => gateCalls.runGate(gateInput)) : await gateCalls.runGate(gateInput);
      } catch (err) {
        if (isCancellation(err)) throw err;
        machine.block({ ...blockFromActivityError(err, `runGate(${gate})`), gate, gateIndex: i });
        return;
      }
      if (!machine.applyGateOutcome(gate, i, outcome)) return;
    }
    machine.passStage();
  }

  /**
   * Queues for the repository's merge lease, runs `merge` once granted, and releases the lease
   * whatever happens (also when a rollback or cancel interrupts the wait or the merge).
   */
  async function underMergeLease(merge: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const holder = workflowInfo().workflowId;
    const requestId = uuid4();
    const filed = await gateCalls.requestMergeLease({ project: state.project, ticket: state.ticket, holder, requestId });
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

  // ---- overrides that stop running work -------------------------------------------------------

  async function interruptOrApply(request: Interrupt): Promise<void> {
    if (state.status === 'blocked' || !stageScope) {
      state.blocked = undefined;
      machine.applyInterrupt(request);
      return;
    }
    interrupt = request;
    stageScope.cancel();
    await condition(() => interrupt === undefined);
  }

  /**
   * Runs the project's rollback command after a person rolled the item back from deploy. Fails
   * closed: when production could not be rolled back the item blocks until a person retries
   * (runs it again) or approves (production was put right by hand).
   */
  async function rollBackProduction(request: NonNullable<WorkItemState['pendingProductionRollback']>): Promise<void> {
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await deploySteps.rollbackProduction({ project: state.project, ticket: state.ticket, branch: state.branch, by: request.by, reason: request.reason });
    } catch (err) {
      if (isCancellation(err)) throw err;
      outcome = { ok: false, detail: blockFromActivityError(err, 'rollbackProduction').reason };
    }
    machine.applyProductionRollback(request, outcome);
  }

  // ---- visibility -----------------------------------------------------------------------------

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
}

function now(): string {
  // Date is deterministic inside the workflow sandbox (it is the workflow task's time).
  return new Date().toISOString();
}
