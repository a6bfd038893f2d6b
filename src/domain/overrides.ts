// Operator overrides: their arguments and the rules that accept or reject them.
// The rules are pure so the workflow's update validators, the CLI and tests share them.
import { isGateName, type GateName } from './gates';
import { STAGE_GRAPH, isStage, rollbackTargets, type Stage } from './stages';
import type { OverrideKind, WorkItemState } from './work-item';

interface OverrideBase {
  /** Who asked for it (operator login, tracker user): mandatory for the audit trail. */
  readonly by: string;
  readonly reason?: string;
}
export type ApproveArgs = OverrideBase;
export type RetryArgs = OverrideBase;
export interface SkipGateArgs extends OverrideBase {
  readonly gate: string;
  readonly reason: string;
}
export interface RollbackArgs extends OverrideBase {
  readonly toStage: string;
}
export type CancelArgs = OverrideBase;
export interface TopUpArgs extends OverrideBase {
  readonly amountUsd: number;
}

/** The most one top-up may add: a typo must not turn $20 into $20000. */
export const MAX_TOP_UP_USD = 1000;

export class OverrideRejected extends Error {
  override readonly name = 'OverrideRejected';
}

function reject(message: string): never {
  throw new OverrideRejected(message);
}

function requireOpen(state: WorkItemState, kind: OverrideKind): void {
  if (state.status === 'done' || state.status === 'cancelled') {
    reject(`${kind}: work item ${state.ticket} is ${state.status}; nothing can change it`);
  }
}

function requireBy(args: OverrideBase, kind: OverrideKind): void {
  if (typeof args?.by !== 'string' || args.by.trim() === '') reject(`${kind}: "by" (who is asking) is required`);
}

function requireBlocked(state: WorkItemState, kind: OverrideKind): void {
  if (state.status !== 'blocked') {
    reject(`${kind}: work item ${state.ticket} is not blocked (stage ${state.stage}, ${state.status})`);
  }
}

export function validateApprove(state: WorkItemState, args: ApproveArgs): void {
  requireBy(args, 'approve');
  requireOpen(state, 'approve');
  requireBlocked(state, 'approve');
  // Approving would skip the step the pause stopped: a paused item resumes with a retry.
  if (state.blocked?.kind === 'paused') reject(`approve: ${state.ticket} is paused; retry resumes it`);
}

export function validateRetry(state: WorkItemState, args: RetryArgs): void {
  requireBy(args, 'retry');
  requireOpen(state, 'retry');
  requireBlocked(state, 'retry');
}

export function validateSkipGate(state: WorkItemState, args: SkipGateArgs): GateName {
  requireBy(args, 'skip-gate');
  requireOpen(state, 'skip-gate');
  if (typeof args.reason !== 'string' || args.reason.trim() === '') reject('skip-gate: a reason is required');
  const gates = STAGE_GRAPH[state.stage].gates;
  if (!isGateName(args.gate) || !gates.includes(args.gate)) {
    reject(
      `skip-gate: gate ${JSON.stringify(args.gate)} does not guard the edge out of stage ${state.stage}` +
        ` (gates there: ${gates.length > 0 ? gates.join(', ') : 'none'})`,
    );
  }
  if (state.pendingSkips.some((s) => s.gate === args.gate))
    reject(`skip-gate: gate ${args.gate} is already set to be skipped`);
  return args.gate;
}

export function validateRollback(state: WorkItemState, args: RollbackArgs): Stage {
  requireBy(args, 'rollback');
  requireOpen(state, 'rollback');
  const targets = rollbackTargets(state.stage);
  if (!isStage(args.toStage) || !targets.includes(args.toStage)) {
    reject(
      `rollback: cannot roll back from ${state.stage} to ${JSON.stringify(args.toStage)}` +
        ` (earlier stages: ${targets.length > 0 ? targets.join(', ') : 'none'})`,
    );
  }
  return args.toStage;
}

export function validateCancel(state: WorkItemState, args: CancelArgs): void {
  requireBy(args, 'cancel');
  requireOpen(state, 'cancel');
}

export type PauseArgs = OverrideBase;

/** Stops the running step and blocks the item until a retry (or the tracker's trigger state). */
export function validatePause(state: WorkItemState, args: PauseArgs): void {
  requireBy(args, 'pause');
  requireOpen(state, 'pause');
  if (state.blocked?.kind === 'paused') reject(`pause: work item ${state.ticket} is already paused`);
}

export function validateTopUp(state: WorkItemState, args: TopUpArgs): number {
  requireBy(args, 'top-up');
  requireOpen(state, 'top-up');
  const amount = args.amountUsd;
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0 || amount > MAX_TOP_UP_USD) {
    reject(
      `top-up: amountUsd must be a number of dollars above 0 and at most ${MAX_TOP_UP_USD} (got ${JSON.stringify(amount)})`,
    );
  }
  return amount;
}
