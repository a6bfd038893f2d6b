// The work item's message handlers: queries, signals and the override updates. Each update's
// validator refuses what the machine would refuse, before anything is written to the history.
import { setHandler } from '@temporalio/workflow';
import {
  validateApprove,
  validateCancel,
  validatePause,
  validateRetry,
  validateRollback,
  validateSkipGate,
  validateTopUp,
  type Interrupt,
  type WorkItemMachine,
  type WorkItemState,
} from '../domain';
import { leaseGrantedSignal } from './lease-messages';
import type { Patched } from './patches';
import {
  approveUpdate,
  cancelUpdate,
  eventSignal,
  pauseUpdate,
  retryUpdate,
  rollbackUpdate,
  skipGateUpdate,
  stateQuery,
  topUpBudgetUpdate,
} from './messages';

export interface HandlerTargets {
  readonly state: WorkItemState;
  readonly machine: WorkItemMachine;
  /** Merge-lease grants received (request ids). */
  readonly leaseGrants: Set<string>;
  readonly patched: Patched;
  /** The interrupt being applied, if any: other overrides wait until it is done. */
  pendingInterrupt(): Interrupt | undefined;
  /** Rollback and cancel stop the running work first. */
  interruptOrApply(request: Interrupt): Promise<void>;
}

export function installHandlers(t: HandlerTargets): void {
  const { state, machine } = t;
  setHandler(stateQuery, () => state, {
    description: "The item's whole state: stage, status, history, gate results, costs (what `orch status` shows).",
  });
  setHandler(
    eventSignal,
    async (event) => {
      if (!machine.recordEvent(event)) return;
      // A person's REQUEST_CHANGES on the PR stops the running review or test and sends the work
      // back (ADR-0026). Asked only when it applies, so no other history carries the marker.
      const changes = machine.changesRequested(event);
      if (changes && !t.pendingInterrupt() && t.patched('human-review')) {
        machine.recordOverride({
          kind: 'rollback',
          by: changes.by,
          reason: 'changes requested on the pull request',
          toStage: 'development',
        });
        await t.interruptOrApply(changes);
      }
    },
    {
      description:
        "A tracker or operator event (comment, label, ticket change, CI status, a person's review), deduplicated by its key.",
    },
  );
  setHandler(
    leaseGrantedSignal,
    (grant) => {
      t.leaseGrants.add(grant.requestId);
    },
    { description: "The repository's merge lease workflow grants this item's request: the merge may run." },
  );
  const noInterruptPending = (): void => {
    const interrupt = t.pendingInterrupt();
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
  const interruptBy = async (request: Exclude<Interrupt, { kind: 'changes-requested' }>) => {
    machine.recordOverride({
      kind: request.kind,
      by: request.by,
      reason: request.reason,
      ...(request.kind === 'rollback' ? { toStage: request.toStage } : {}),
    });
    await t.interruptOrApply(request);
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
  setHandler(pauseUpdate, (args) => interruptBy({ kind: 'pause', by: args.by, reason: args.reason }), {
    description:
      'Stop the running step and hold the item until a retry, or its ticket back in the trigger state ({"by", "reason"?}).',
    validator: (args) => void (noInterruptPending(), validatePause(state, args)),
  });
}
