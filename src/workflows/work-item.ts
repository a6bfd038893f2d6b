// The work-item workflow: one long-lived execution per ticket that walks the stage graph. This
// file is the Temporal plumbing only: activity proxies, message handlers, cancellation scopes, the
// merge-lease wait, continue-as-new and `patched()`. The rules (moving, blocking, sending back,
// overrides, caps) live in the plain WorkItemMachine (src/domain/work-item-machine.ts).
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  WorkItemMachine,
  validateApprove,
  validateCancel,
  validateRetry,
  validateRollback,
  validateSkipGate,
  validateTopUp,
  workItemSearchAttributes,
} from '../domain';
import type {
  GateName,
  GateOutcome,
  Interrupt,
  MachinePort,
  StageSpec,
  StageStep,
  StepResult,
  TrackerNotice,
  WorkItemInput,
  WorkItemState,
} from '../domain';
import { blockFromActivityError, deliveredBefore } from './activity-errors';
import { workItemProxies } from './activity-proxies';
import { renderDetails } from './details';
import { gateSummary, stepSummary } from './summaries';
import { initialState, upgradeCarriedState } from './initial-state';
import { leaseGrantedSignal } from './lease-messages';
import { underMergeLease } from './merge-lease-wait';
import {
  approveUpdate,
  cancelUpdate,
  eventSignal,
  retryUpdate,
  rollbackUpdate,
  skipGateUpdate,
  stateQuery,
  topUpBudgetUpdate,
} from './messages';

export async function workItem(input: WorkItemInput): Promise<WorkItemState> {
  const state: WorkItemState = input.carried ?? initialState(input, now());
  const { limits, timeouts } = input;
  const { agentSteps, deploySteps, gateCalls, noticeCalls } = workItemProxies(timeouts);

  upgradeCarriedState(state);

  const port: MachinePort = {
    now,
    publish,
    patched,
    info: (m, f) => log.info(m, f),
    warn: (m, f) => log.warn(m, f),
    error: (m, f) => log.error(m, f),
  };
  const machine = new WorkItemMachine(state, limits, port);
  let stageScope: CancellationScope | undefined;
  let interrupt: Interrupt | undefined;
  /** The last answer of patched('tracker-sync'), asked where notices are delivered. */
  let trackerSyncOn: boolean | undefined;
  /** Delivers notices beside the running work (`tracker-courier`); set while it runs. */
  let courier: Promise<void> | undefined;
  /** Why the courier's last delivery failed, for the main loop to block on between steps. */
  let courierFailure: string | undefined;
  /** patched('coalesced-publish'), asked once per run: search attributes upserted once per task. */
  let coalescePublish: boolean | undefined;
  let publishQueued = false;
  let lastSearchAttributes: string | undefined;
  /** Merge-lease grants received (request ids); a grant is used once. */
  const leaseGrants = new Set<string>();
  const leaseWait = {
    project: state.project,
    ticket: state.ticket,
    grants: leaseGrants,
    requestMergeLease: gateCalls.requestMergeLease,
    details: () => renderDetails(state),
  };

  // ---- messages -------------------------------------------------------------------------------

  setHandler(stateQuery, () => state, {
    description: "The item's whole state: stage, status, history, gate results, costs (what `orch status` shows).",
  });
  setHandler(eventSignal, (event) => machine.recordEvent(event), {
    description: 'A tracker or operator event (comment, label, ticket change), deduplicated by its key.',
  });
  setHandler(
    leaseGrantedSignal,
    (grant) => {
      leaseGrants.add(grant.requestId);
    },
    { description: "The repository's merge lease workflow grants this item's request: the merge may run." },
  );
  const noInterruptPending = (): void => {
    if (interrupt) throw new Error(`another ${interrupt.kind} is being applied to ${state.ticket}; try again`);
  };
  setHandler(approveUpdate, (args) => machine.approve(args), {
    description: 'Approve a blocked item as it is and move it on ({"by", "reason"?}).',
    validator: (args) => void (noInterruptPending(), validateApprove(state, args)),
  });
  setHandler(retryUpdate, (args) => machine.retry(args), {
    description: 'Run the blocked step again ({"by", "reason"?}).',
    validator: (args) => void (noInterruptPending(), validateRetry(state, args)),
  });
  setHandler(skipGateUpdate, (args) => machine.skipGate(args, validateSkipGate(state, args)), {
    description: 'Skip one gate of the current stage, recorded with who and why ({"by", "gate", "reason"}).',
    validator: (args) => void (noInterruptPending(), validateSkipGate(state, args)),
  });
  setHandler(topUpBudgetUpdate, (args) => machine.topUp(args, validateTopUp(state, args)), {
    description: 'Add to the item\'s budget, which unblocks an item stopped by it ({"by", "amountUsd", "reason"?}).',
    validator: (args) => void (noInterruptPending(), validateTopUp(state, args)),
  });
  /** Rollback and cancel stop the running work first (interruptOrApply). */
  const interruptBy = async (request: Interrupt) => {
    machine.recordOverride({
      kind: request.kind,
      by: request.by,
      reason: request.reason,
      ...(request.kind === 'rollback' ? { toStage: request.toStage } : {}),
    });
    await interruptOrApply(request);
    return machine.result();
  };
  setHandler(
    rollbackUpdate,
    (args) =>
      interruptBy({ kind: 'rollback', toStage: validateRollback(state, args), by: args.by, reason: args.reason }),
    {
      description: 'Stop the running work and go back to an earlier stage ({"by", "toStage", "reason"?}).',
      validator: (args) => void (noInterruptPending(), validateRollback(state, args)),
    },
  );
  setHandler(cancelUpdate, (args) => interruptBy({ kind: 'cancel', by: args.by, reason: args.reason }), {
    description: 'Stop the running work and end the item as cancelled ({"by", "reason"?}).',
    validator: (args) => void (noInterruptPending(), validateCancel(state, args)),
  });

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
      // Let running update handlers (and the courier) finish first; an interrupt arriving
      // meanwhile is applied first.
      await condition(() => (allHandlersFinished() && !courier) || interrupt !== undefined);
      if (interrupt) continue;
      state.generation += 1;
      await continueAsNew<typeof workItem>({ ...input, carried: state });
    }
    if (courierFailure !== undefined) {
      machine.noticeFailed(courierFailure);
      courierFailure = undefined;
      continue;
    }
    if (machine.noticesDeliverable() && (trackerSyncOn = patched('tracker-sync'))) {
      // Since `tracker-courier` notices travel beside the work, batched; before it, one by one
      // ahead of the next step.
      if (patched('tracker-courier')) startCourier();
      else {
        await deliverNotices();
        continue;
      }
    }
    if (state.status === 'blocked') {
      // Wakes for deliverable notices only when tracker sync is on: replaying a history from
      // before the patch must not spin on notices it will never send. With the courier, only
      // once it is idle (it is already delivering what is pending).
      await condition(
        () =>
          state.status !== 'blocked' ||
          interrupt !== undefined ||
          continueAsNewDue() ||
          courierFailure !== undefined ||
          (machine.noticesDeliverable() && trackerSyncOn !== false && !courier),
      );
      continue;
    }
    if (state.pendingProductionRollback) {
      await rollBackProduction(state.pendingProductionRollback);
      continue;
    }
    await runStage(machine.spec());
  }

  // The last word (done or cancelled) still reaches the tracker; nothing can block any more.
  if (courier) await courier;
  if (machine.noticesDeliverable() && patched('tracker-sync')) {
    if (patched('tracker-courier')) {
      courierFailure = undefined; // the last word gets its own try
      startCourier();
      await courier;
      if (courierFailure !== undefined) machine.dropUndeliveredNotices(courierFailure);
    } else await deliverNotices();
  }
  // A delivered item's checkout is removed; a cancelled one is kept for inspection
  // (`orch workspaces clean` removes it). Added with the agent runner.
  if (state.status === 'done' && patched('workspace-release')) await releaseWorkspace();
  await condition(allHandlersFinished);
  return state;

  // ---- tracker --------------------------------------------------------------------------------

  /** What a tracker notice is about: the item as the tracker knows it. */
  function noticeItem() {
    return { project: state.project, ticket: state.ticket, title: state.title, branch: state.branch };
  }

  /** Delivers pending notices in order; a failure blocks the item (kind `tracker`) while it is open. */
  async function deliverNotices(): Promise<void> {
    while (state.notices.length > 0) {
      const notice = state.notices[0] as TrackerNotice;
      try {
        await noticeCalls.syncTracker({ ...noticeItem(), notice });
      } catch (err) {
        machine.noticeFailed(blockFromActivityError(err, 'syncTracker').reason);
        return;
      }
      state.notices.shift();
    }
  }

  /**
   * Starts delivering the pending notices beside the running work, if not already: one activity
   * per batch, in order. Started from the main loop only, so it runs in the workflow's root scope
   * (a rollback cancelling the stage does not cancel it). A failure is left for the main loop,
   * which blocks the item between steps. An item without trackers needs no activity at all.
   */
  function startCourier(): void {
    if (courier) return;
    courier = (async () => {
      while (machine.noticesDeliverable() && courierFailure === undefined) {
        if (input.trackers === false) {
          state.notices.splice(0);
          break;
        }
        const batch = state.notices.slice(0, NOTICE_BATCH);
        try {
          await noticeCalls.syncTrackerNotices({ ...noticeItem(), notices: batch });
        } catch (err) {
          // What went out before the failure is not sent again; the failing notice leads.
          state.notices.splice(0, Math.min(deliveredBefore(err), batch.length));
          courierFailure = blockFromActivityError(err, 'syncTrackerNotices').reason;
          break;
        }
        state.notices.splice(0, batch.length);
      }
    })().finally(() => {
      courier = undefined;
    });
  }

  async function releaseWorkspace(): Promise<void> {
    try {
      await noticeCalls.releaseWorkspace({ project: state.project, ticket: state.ticket });
    } catch (err) {
      // Nothing can block any more: a leftover checkout is a disk-space matter, not the item's.
      log.warn('workspace not removed', {
        ticket: state.ticket,
        reason: err instanceof Error ? err.message : String(err),
      });
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
    const stepInput = machine.stepInput(step);
    // The ledger is checked before money is spent; added with the agent runner.
    if (step.activity === 'runAgent' && state.costUsd >= state.budgetUsd && patched('agent-budget')) {
      machine.blockIfBudgetSpent();
      return false;
    }
    let outcome: StepResult;
    try {
      const summary = { summary: stepSummary(step.activity, stepInput) };
      if (step.activity === 'runAgent') outcome = await agentSteps.runAgent.executeWithOptions(summary, [stepInput]);
      else if (step.activity === 'deployStaging')
        outcome = await deploySteps.deployStaging.executeWithOptions(summary, [stepInput]);
      else {
        // From here on production may run this item's code: a rollback override must undo it.
        state.productionTouched = true;
        outcome = await deploySteps.deployProduction.executeWithOptions(summary, [stepInput]);
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
        const gateInput = machine.gateInput(gate);
        const runGate = () => gateCalls.runGate.executeWithOptions({ summary: gateSummary(gateInput) }, [gateInput]);
        // Two items of one repository never merge at once (added with the merge gate).
        outcome =
          gate === 'merge' && patched('merge-lease') ? await underMergeLease(leaseWait, runGate) : await runGate();
      } catch (err) {
        if (isCancellation(err)) throw err;
        machine.block({ ...blockFromActivityError(err, `runGate(${gate})`), gate, gateIndex: i });
        return;
      }
      if (!machine.applyGateOutcome(gate, i, outcome)) return;
    }
    machine.passStage();
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
      outcome = await deploySteps.rollbackProduction({
        project: state.project,
        ticket: state.ticket,
        branch: state.branch,
        by: request.by,
        reason: request.reason,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      outcome = { ok: false, detail: blockFromActivityError(err, 'rollbackProduction').reason };
    }
    machine.applyProductionRollback(request, outcome);
  }

  // ---- visibility -----------------------------------------------------------------------------

  /**
   * Search attributes and Web UI details follow every state change. Since `coalesced-publish`
   * the upsert waits for the end of the current workflow task (a microtask) and is skipped when
   * nothing it carries changed: one upsert per task at most, not one per state change.
   */
  function publish(): void {
    setCurrentDetails(renderDetails(state));
    coalescePublish ??= patched('coalesced-publish');
    if (!coalescePublish) {
      upsertSearchAttributes([...workItemSearchAttributes(state)]);
      return;
    }
    if (publishQueued) return;
    publishQueued = true;
    void Promise.resolve().then(() => {
      publishQueued = false;
      const attributes = [...workItemSearchAttributes(state)];
      const fingerprint = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
      if (fingerprint === lastSearchAttributes) return;
      lastSearchAttributes = fingerprint;
      upsertSearchAttributes(attributes);
    });
  }

  function continueAsNewDue(): boolean {
    const info = workflowInfo();
    const limit = input.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  }
}

/** Notices per courier activity: a backlog after a long tracker outage goes in a few calls. */
const NOTICE_BATCH = 20;

function now(): string {
  // Date is deterministic inside the workflow sandbox (it is the workflow task's time).
  return new Date().toISOString();
}
