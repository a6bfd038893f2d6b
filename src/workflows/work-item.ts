// The work-item workflow: one long-lived execution per ticket that walks the stage graph. This
// file is the Temporal plumbing only: activity proxies, cancellation scopes, the merge-lease wait,
// continue-as-new and `patched()`. The rules (moving, blocking, sending back, overrides, caps) live
// in the plain WorkItemMachine (src/domain/work-item-machine.ts); the message handlers, the
// tracker courier and the search-attribute publisher have their own modules.
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { HOST_BOUND_GATES, WorkItemMachine } from '../domain';
import type {
  GateName,
  GateOutcome,
  Interrupt,
  MachinePort,
  StageSpec,
  StageStep,
  StepInput,
  StepResult,
  WorkItemInput,
  WorkItemState,
} from '../domain';
import { blockFromActivityError } from './activity-errors';
import { workItemProxies, type WorkItemProxies } from './activity-proxies';
import { renderDetails } from './details';
import { installHandlers } from './handlers';
import { statePublisher } from './publisher';
import { gateSummary, stepSummary } from './summaries';
import { initialState, upgradeCarriedState } from './initial-state';
import { underMergeLease } from './merge-lease-wait';
import { HostRouter } from './host-routing';
import { TrackerCourier } from './tracker-courier';

export async function workItem(input: WorkItemInput): Promise<WorkItemState> {
  const state: WorkItemState = input.carried ?? initialState(input, now());
  const { limits, timeouts } = input;
  const local = workItemProxies(timeouts);
  const { gateCalls, noticeCalls } = local;

  upgradeCarriedState(state);

  const publish = statePublisher(state);
  const port: MachinePort = {
    now,
    publish,
    patched,
    info: (m, f) => log.info(m, f),
    warn: (m, f) => log.warn(m, f),
    error: (m, f) => log.error(m, f),
  };
  const machine = new WorkItemMachine(state, limits, port);
  // Items started with host routing claim a host for each piece of host-bound work (ADR-0021);
  // the input never changes within an execution, so the branch is deterministic.
  const hosts = input.hosts ? new HostRouter({ ...input, hosts: input.hosts }, machine) : undefined;
  let stageScope: CancellationScope | undefined;
  let interrupt: Interrupt | undefined;
  /** The last answer of patched('tracker-sync'), asked where notices are delivered. */
  let trackerSyncOn: boolean | undefined;
  const courier = new TrackerCourier(state, machine, noticeCalls, input.trackers);
  /** Merge-lease grants received (request ids); a grant is used once. */
  const leaseGrants = new Set<string>();
  const leaseWait = {
    project: state.project,
    ticket: state.ticket,
    grants: leaseGrants,
    requestMergeLease: gateCalls.requestMergeLease,
    details: () => renderDetails(state),
  };
  installHandlers({ state, machine, leaseGrants, pendingInterrupt: () => interrupt, interruptOrApply });

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
      await condition(() => (allHandlersFinished() && !courier.busy) || interrupt !== undefined);
      if (interrupt) continue;
      state.generation += 1;
      await continueAsNew<typeof workItem>({ ...input, carried: state });
    }
    if (courier.failure !== undefined) {
      machine.noticeFailed(courier.failure);
      courier.failure = undefined;
      continue;
    }
    if (machine.noticesDeliverable() && (trackerSyncOn = patched('tracker-sync'))) {
      // Since `tracker-courier` notices travel beside the work, batched; before it, one by one
      // ahead of the next step.
      if (patched('tracker-courier')) courier.start();
      else {
        await courier.deliverOneByOne();
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
          courier.failure !== undefined ||
          (machine.noticesDeliverable() && trackerSyncOn !== false && !courier.busy),
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
  if (courier.busy) await courier.idle();
  if (machine.noticesDeliverable() && patched('tracker-sync')) {
    if (patched('tracker-courier')) {
      courier.failure = undefined; // the last word gets its own try
      courier.start();
      await courier.idle();
      if (courier.failure !== undefined) machine.dropUndeliveredNotices(courier.failure);
    } else await courier.deliverOneByOne();
  }
  // A delivered item's checkout is removed; a cancelled one is kept for inspection
  // (`orch workspaces clean` removes it). Added with the agent runner.
  if (state.status === 'done' && patched('workspace-release')) await releaseWorkspace();
  await condition(allHandlersFinished);
  return state;

  // ---- after delivery ---------------------------------------------------------------------------

  /** Each host that ran the item's work has a checkout of it (ADR-0021); else the worker's own. */
  async function releaseWorkspace(): Promise<void> {
    const ref = { project: state.project, ticket: state.ticket };
    if (hosts && input.hosts) {
      const scheduleToStartMs = input.hosts.hostStartMs;
      await Promise.all(
        (state.hostQueues ?? []).map((taskQueue) =>
          releaseOne(() =>
            workItemProxies(timeouts, { taskQueue, scheduleToStartMs }).noticeCalls.releaseWorkspace(ref),
          ),
        ),
      );
    } else await releaseOne(() => noticeCalls.releaseWorkspace(ref));
  }

  async function releaseOne(release: () => Promise<void>): Promise<void> {
    try {
      await release();
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
    const summary = { summary: stepSummary(step.activity, stepInput) };
    const run = (on: WorkItemProxies, input: StepInput): Promise<StepResult> => {
      if (step.activity === 'runAgent') return on.agentSteps.runAgent.executeWithOptions(summary, [input]);
      if (step.activity === 'deployStaging') return on.deploySteps.deployStaging.executeWithOptions(summary, [input]);
      // From here on production may run this item's code: a rollback override must undo it.
      state.productionTouched = true;
      return on.deploySteps.deployProduction.executeWithOptions(summary, [input]);
    };
    try {
      outcome = hosts
        ? await hosts.run(step.activity === 'runAgent' ? 'agents' : 'builds', step.activity, (on, claim, lostRun) =>
            run(on, { ...stepInput, hostSlot: claim.slotId, ...(lostRun ? { lostRun } : {}) }),
          )
        : await run(local, stepInput);
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
        const options = { summary: gateSummary(gateInput) };
        const runGate = () =>
          hosts && HOST_BOUND_GATES.has(gate)
            ? hosts.run('builds', `runGate(${gate})`, (on, claim) =>
                on.gateCalls.runGate.executeWithOptions(options, [{ ...gateInput, hostSlot: claim.slotId }]),
              )
            : gateCalls.runGate.executeWithOptions(options, [gateInput]);
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
    const rollback = { project: state.project, ticket: state.ticket, branch: state.branch, ...request };
    try {
      outcome = hosts
        ? await hosts.run('builds', 'rollbackProduction', (on, claim) =>
            on.deploySteps.rollbackProduction({ ...rollback, hostSlot: claim.slotId }),
          )
        : await local.deploySteps.rollbackProduction(rollback);
    } catch (err) {
      if (isCancellation(err)) throw err;
      outcome = { ok: false, detail: blockFromActivityError(err, 'rollbackProduction').reason };
    }
    machine.applyProductionRollback(request, outcome);
  }

  // ---- continue-as-new ------------------------------------------------------------------------

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
