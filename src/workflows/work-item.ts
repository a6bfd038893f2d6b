// The work-item workflow: one long-lived execution per ticket that walks the stage graph. This
// file is the Temporal plumbing only: the main loop, interrupts, continue-as-new and `patched()`.
// The rules (moving, blocking, sending back, overrides, caps) live in the plain WorkItemMachine
// (src/domain/work-item-machine.ts); how a stage runs (step, gates, host claims) is the
// StageRunner's; the message handlers, the tracker courier and the search-attribute publisher
// have their own modules.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkItemMachine } from '../domain';
import type { Interrupt, MachinePort, WorkItemInput, WorkItemState } from '../domain';
import { workItemProxies } from './activity-proxies';
import { deploymentBuild, whenVersioned } from './versioning';
import { renderDetails } from './details';
import { installHandlers } from './handlers';
import { statePublisher } from './publisher';
import { initialState, upgradeCarriedState } from './initial-state';
import { HostRouter } from './host-routing';
import { StageRunner } from './stage-runner';
import { TrackerCourier } from './tracker-courier';
import { workItemPatches } from './patches';

// Items live for days: each moves to the current build at its next workflow task, its changes
// guarded by patched(), and starts a fresh run there (below) so old patches can retire (ADR-0028).
setWorkflowOptions(whenVersioned('AUTO_UPGRADE'), workItem);

export async function workItem(input: WorkItemInput): Promise<WorkItemState> {
  // First, before any command of the run (ADR-0032).
  const patched = workItemPatches();
  const state: WorkItemState = input.carried ?? initialState(input, now());
  /** The build this run started on (none: an unversioned worker). */
  const startedOn = deploymentBuild();
  /** False once patched() has said this history predates moving on after an upgrade. */
  let upgradeMovesOn = true;
  const { limits, timeouts } = input;
  const local = workItemProxies(timeouts);

  upgradeCarriedState(state);

  const publish = statePublisher(state, patched);
  const port: MachinePort = {
    now,
    publish,
    patched,
    info: (m, f) => log.info(m, f),
    warn: (m, f) => log.warn(m, f),
    error: (m, f) => log.error(m, f),
  };
  // An item whose project has no tracker keeps no notices: it asks none of the tracker patches
  // (three markers and their upserts) and schedules nothing for them. Before this patch such an
  // item queued its notices and the courier dropped them.
  const keepsNotices = input.trackers !== false || !patched('untracked-keeps-no-notices');
  if (!keepsNotices) state.notices.splice(0);
  const machine = new WorkItemMachine(state, limits, port, { keepsNotices });
  // Items started with host routing claim a host for each piece of host-bound work (ADR-0021);
  // the input never changes within an execution, so the branch is deterministic.
  const hosts = input.hosts ? new HostRouter({ ...input, hosts: input.hosts }, machine, patched) : undefined;
  let interrupt: Interrupt | undefined;
  /** The last answer of patched('tracker-sync'), asked where notices are delivered. */
  let trackerSyncOn: boolean | undefined;
  const courier = new TrackerCourier(state, machine, local.noticeCalls, input.trackers);
  /** Merge-lease grants received (request ids); a grant is used once. */
  const leaseGrants = new Set<string>();
  const leaseWait = {
    project: state.project,
    ticket: state.ticket,
    grants: leaseGrants,
    requestMergeLease: local.gateCalls.requestMergeLease,
    details: () => renderDetails(state),
    patched,
  };
  const stages = new StageRunner({
    input,
    state,
    machine,
    local,
    hosts,
    leaseWait,
    patched,
    interrupted: () => interrupt !== undefined,
  });
  installHandlers({ state, machine, leaseGrants, patched, pendingInterrupt: () => interrupt, interruptOrApply });

  // ---- main loop ------------------------------------------------------------------------------

  if (!input.carried) log.info('work item started', { project: state.project, ticket: state.ticket });
  publish();

  while (state.status === 'active' || state.status === 'blocked') {
    if (interrupt) {
      machine.applyInterrupt(interrupt);
      interrupt = undefined;
      continue;
    }
    if (continueAsNewDue() && (historyLong() || movesOnAfterUpgrade())) {
      // Let running update handlers (and the courier) finish first; an interrupt arriving
      // meanwhile is applied first. After an upgrade the new run holds none of the old build's
      // patch markers: the new build's code runs it as a fresh start.
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
      await stages.rollBackProduction(state.pendingProductionRollback);
      continue;
    }
    await stages.runStage(machine.spec());
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
  if (state.status === 'done' && patched('workspace-release')) await stages.releaseWorkspace();
  await condition(allHandlersFinished);
  return state;

  // ---- overrides that stop running work -------------------------------------------------------

  async function interruptOrApply(request: Interrupt): Promise<void> {
    if (state.status === 'blocked' || !stages.scope) {
      state.blocked = undefined;
      machine.applyInterrupt(request);
      return;
    }
    interrupt = request;
    stages.scope.cancel();
    await condition(() => interrupt === undefined);
  }

  // ---- continue-as-new ------------------------------------------------------------------------

  function continueAsNewDue(): boolean {
    return historyLong() || upgraded();
  }

  function historyLong(): boolean {
    const info = workflowInfo();
    const limit = input.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  }

  /** This run's tasks now run on another build than the one it started on (it was upgraded). */
  function upgraded(): boolean {
    const build = deploymentBuild();
    return upgradeMovesOn && build !== undefined && build !== startedOn;
  }

  /**
   * Asked once an upgrade is seen, so only upgraded runs hold the marker (of runs that started
   * before the fold, ADR-0032: a later run holds the fold's marker instead, from its start).
   */
  function movesOnAfterUpgrade(): boolean {
    upgradeMovesOn = patched('upgrade-continue-as-new');
    return upgradeMovesOn;
  }
}

function now(): string {
  // Date is deterministic inside the workflow sandbox (it is the workflow task's time).
  return new Date().toISOString();
}
