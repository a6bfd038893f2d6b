// Signal, query and update definitions of the work-item workflow. Imported by the workflow,
// the API and the CLI, so their names are the wire contract: renaming one breaks running items.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { OVERRIDE_TABLE, type OverrideKind } from '../domain';
import type {
  OverrideResult,
  ApproveArgs,
  CancelArgs,
  PauseArgs,
  RetryArgs,
  RollbackArgs,
  SkipGateArgs,
  TopUpArgs,
  WorkItemEvent,
  WorkItemState,
} from '../domain';

/** Webhook and operator events; deduplicated by `key`. */
export const eventSignal = defineSignal<[WorkItemEvent]>('event');

export const stateQuery = defineQuery<WorkItemState>('state');

/** What every override returns once applied. */
export type { OverrideResult } from '../domain';

// Update names come from the override table (src/domain/override-table.ts).
export const approveUpdate = defineUpdate<OverrideResult, [ApproveArgs]>(OVERRIDE_TABLE.approve.updateName);
export const retryUpdate = defineUpdate<OverrideResult, [RetryArgs]>(OVERRIDE_TABLE.retry.updateName);
export const skipGateUpdate = defineUpdate<OverrideResult, [SkipGateArgs]>(OVERRIDE_TABLE['skip-gate'].updateName);
export const rollbackUpdate = defineUpdate<OverrideResult, [RollbackArgs]>(OVERRIDE_TABLE.rollback.updateName);
export const cancelUpdate = defineUpdate<OverrideResult, [CancelArgs]>(OVERRIDE_TABLE.cancel.updateName);
/** Raises the item's budget; a budget block is lifted and the stage's step runs again. */
export const topUpBudgetUpdate = defineUpdate<OverrideResult, [TopUpArgs]>(OVERRIDE_TABLE['top-up'].updateName);

/** Stops the running step and blocks the item until a retry or the tracker's trigger state resumes it. */
export const pauseUpdate = defineUpdate<OverrideResult, [PauseArgs]>(OVERRIDE_TABLE.pause.updateName);

/** Each override's update, by its kind: what the CLI and webhook dispatch send. */
export const OVERRIDE_UPDATES = {
  approve: approveUpdate,
  retry: retryUpdate,
  'skip-gate': skipGateUpdate,
  rollback: rollbackUpdate,
  cancel: cancelUpdate,
  'top-up': topUpBudgetUpdate,
  pause: pauseUpdate,
} as const satisfies Record<OverrideKind, unknown>;
