// Signal, query and update definitions of the work-item workflow. Imported by the workflow,
// the API and the CLI, so their names are the wire contract: renaming one breaks running items.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  OverrideResult,
  ApproveArgs,
  CancelArgs,
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

export const approveUpdate = defineUpdate<OverrideResult, [ApproveArgs]>('approve');
export const retryUpdate = defineUpdate<OverrideResult, [RetryArgs]>('retry');
export const skipGateUpdate = defineUpdate<OverrideResult, [SkipGateArgs]>('skipGate');
export const rollbackUpdate = defineUpdate<OverrideResult, [RollbackArgs]>('rollback');
export const cancelUpdate = defineUpdate<OverrideResult, [CancelArgs]>('cancel');
/** Raises the item's budget; a budget block is lifted and the stage's step runs again. */
export const topUpBudgetUpdate = defineUpdate<OverrideResult, [TopUpArgs]>('topUpBudget');

