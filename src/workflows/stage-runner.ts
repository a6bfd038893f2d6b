// How a work item's stage runs: its step, then its gates, inside a cancellation scope that a
// rollback, cancel or pause cancels; the production rollback a person asked for; the workspace
// release at the end. Routed through a host claim when the item has host routing (ADR-0021).
// Temporal calls only: what the outcomes mean is the WorkItemMachine's.
import { CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import {
  HOST_BOUND_GATES,
  ciVerdict,
  type CiRequirement,
  type GateName,
  type GateOutcome,
  type StageSpec,
  type StageStep,
  type StepInput,
  type StepResult,
  type WorkItemInput,
  type WorkItemMachine,
  type WorkItemState,
} from '../domain';
import { blockFromActivityError } from './activity-errors';
import { workItemProxies, type WorkItemProxies } from './activity-proxies';
import type { HostRouter, RunPlacement } from './host-routing';
import { underMergeLease, type LeaseWait } from './merge-lease-wait';
import type { Patched } from './patches';
import { gateSummary, stepSummary } from './summaries';

export interface StageRunnerDeps {
  readonly input: WorkItemInput;
  readonly state: WorkItemState;
  readonly machine: WorkItemMachine;
  /** The activity proxies on the workflow's own task queue. */
  readonly local: WorkItemProxies;
  /** Set for items started with host routing. */
  readonly hosts: HostRouter | undefined;
  readonly leaseWait: LeaseWait;
  readonly patched: Patched;
  /** True while an interrupt (rollback, cancel, pause) is being applied. */
  interrupted(): boolean;
}

export class StageRunner {
  /** The running stage's scope, which an interrupt cancels. */
  scope: CancellationScope | undefined;

  constructor(private readonly d: StageRunnerDeps) {}

  async runStage(spec: StageSpec): Promise<void> {
    const { machine, state } = this.d;
    if (!spec.next) {
      machine.finish();
      return;
    }
    const resume = state.resume ?? { phase: 'step' };
    state.resume = undefined;
    const scope = new CancellationScope();
    this.scope = scope;
    try {
      await scope.run(async () => {
        if (resume.phase === 'step' && spec.step && !(await this.runStep(spec.step))) return;
        await this.runGates(spec, resume.phase === 'gates' ? resume.fromGate : 0);
      });
    } catch (err) {
      // Cancelled by an interrupt: the loop applies it next.
      if (this.d.interrupted() && isCancellation(err)) return;
      throw err;
    } finally {
      this.scope = undefined;
    }
  }

  /**
   * Runs the project's rollback command after a person rolled the item back from deploy. Fails
   * closed: when production could not be rolled back the item blocks until a person retries
   * (runs it again) or approves (production was put right by hand).
   */
  async rollBackProduction(request: NonNullable<WorkItemState['pendingProductionRollback']>): Promise<void> {
    const { state, hosts, local, machine } = this.d;
    let outcome: { ok: boolean; detail: string };
    const rollback = { project: state.project, ticket: state.ticket, branch: state.branch, ...request };
    try {
      outcome = hosts
        ? await hosts.runBuild('rollbackProduction', (on, placement) =>
            on.deploySteps.rollbackProduction({ ...rollback, ...placement }),
          )
        : await local.deploySteps.rollbackProduction(rollback);
    } catch (err) {
      if (isCancellation(err)) throw err;
      outcome = { ok: false, detail: blockFromActivityError(err, 'rollbackProduction').reason };
    }
    machine.applyProductionRollback(request, outcome);
  }

  /** Each host that ran the item's work has a checkout of it (ADR-0021); else the worker's own. */
  async releaseWorkspace(): Promise<void> {
    const { state, input, hosts, local } = this.d;
    const ref = { project: state.project, ticket: state.ticket };
    if (hosts && input.hosts) {
      const scheduleToStartMs = input.hosts.hostStartMs;
      await Promise.all(
        (state.hostQueues ?? []).map((taskQueue) =>
          this.releaseOne(() =>
            workItemProxies(input.timeouts, { taskQueue, scheduleToStartMs }).noticeCalls.releaseWorkspace(ref),
          ),
        ),
      );
    } else await this.releaseOne(() => local.noticeCalls.releaseWorkspace(ref));
  }

  private async releaseOne(release: () => Promise<void>): Promise<void> {
    try {
      await release();
    } catch (err) {
      // Nothing can block any more: a leftover checkout is a disk-space matter, not the item's.
      log.warn('workspace not removed', {
        ticket: this.d.state.ticket,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Runs the stage's step; false when the item got blocked or sent back. */
  private async runStep(step: StageStep): Promise<boolean> {
    const { machine, state, hosts, local } = this.d;
    const stepInput = machine.stepInput(step);
    // The ledger is checked before money is spent; added with the agent runner.
    if (step.activity === 'runAgent' && state.costUsd >= state.budgetUsd && this.d.patched('agent-budget')) {
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
      const placed = (on: WorkItemProxies, placement: RunPlacement) => run(on, { ...stepInput, ...placement });
      outcome = !hosts
        ? await run(local, stepInput)
        : step.activity === 'runAgent'
          ? await hosts.runAgent(placed)
          : await hosts.runBuild(step.activity, placed);
    } catch (err) {
      if (isCancellation(err)) throw err;
      machine.block(blockFromActivityError(err, step.activity));
      return false;
    }
    return machine.applyStepResult(step, outcome);
  }

  private async runGates(spec: StageSpec, fromGate: number): Promise<void> {
    const { machine, hosts, local, leaseWait } = this.d;
    for (let i = fromGate; i < spec.gates.length; i++) {
      const gate = spec.gates[i] as GateName;
      const skip = machine.takePendingSkip(gate);
      if (skip) {
        machine.recordGate(gate, 'SKIPPED', [`skipped by ${skip.by}: ${skip.reason}`]);
        continue;
      }
      if (gate === 'approval') {
        // Only items whose project requires a person's approval are held (ADR-0026).
        if (!this.d.input.requireHumanApproval) continue;
        if (!machine.applyApprovalGate(i)) return;
        continue;
      }
      if (gate === 'ci') {
        // Only items whose project requires CI contexts wait; for the others (and every history
        // recorded before ADR-0025) this gate is nothing at all.
        const ci = this.d.input.ci;
        if (!ci?.requiredContexts.length) continue;
        const verdict = await this.waitForCi(ci, i, 'ci');
        if (!verdict || !machine.applyGateOutcome(gate, i, verdict)) return;
        continue;
      }
      // Nothing is merged unless CI is green on the head being merged: a review or test run may
      // have pushed since development's CI gate (ADR-0025).
      const ci = this.d.input.ci;
      if (gate === 'merge' && ci?.requiredContexts.length) {
        const verdict = await this.waitForCi(ci, i, 'merge');
        if (!verdict) return;
        if (verdict.verdict !== 'PASS') {
          machine.applyGateOutcome('ci', i, verdict);
          return;
        }
      }
      let outcome: GateOutcome;
      try {
        const gateInput = machine.gateInput(gate);
        const options = { summary: gateSummary(gateInput) };
        const runGate = () =>
          hosts && HOST_BOUND_GATES.has(gate)
            ? hosts.runBuild(`runGate(${gate})`, (on, placement) =>
                on.gateCalls.runGate.executeWithOptions(options, [{ ...gateInput, ...placement }]),
              )
            : local.gateCalls.runGate.executeWithOptions(options, [gateInput]);
        // Two items of one repository never merge at once (added with the merge gate).
        outcome =
          gate === 'merge' && this.d.patched('merge-lease')
            ? await underMergeLease(leaseWait, runGate)
            : await runGate();
      } catch (err) {
        if (isCancellation(err)) throw err;
        machine.block({ ...blockFromActivityError(err, `runGate(${gate})`), gate, gateIndex: i });
        return;
      }
      if (!machine.applyGateOutcome(gate, i, outcome)) return;
    }
    machine.passStage();
  }

  /** A durable wait for the code host's statuses on the head, woken by each one; blocks at the timeout. */
  private async waitForCi(ci: CiRequirement, gateIndex: number, gate: GateName): Promise<GateOutcome | undefined> {
    const { machine, state } = this.d;
    // Already decided (the statuses came first): no timer at all.
    let verdict = ciVerdict(state, ci.requiredContexts);
    if (verdict) return verdict;
    const settled = await condition(
      () => (verdict = ciVerdict(state, ci.requiredContexts)) !== undefined,
      ci.timeoutMs,
    );
    if (settled) return verdict;
    machine.blockCiTimeout(ci.requiredContexts, gate, gateIndex, ci.timeoutMs);
    return undefined;
  }
}
