// The bench's baseline for an item: a bare workflow that runs only the step and gate activities a
// work item needed, in the same order, with nothing else (no tracker, lease, state or queries).
import { proxyActivities } from '@temporalio/workflow';
import type { WorkItemActivities } from '../../domain';

export interface ChainCall {
  readonly activity: 'runAgent' | 'runGate' | 'deployStaging' | 'deployProduction';
  readonly input: unknown;
}

const calls = proxyActivities<Record<ChainCall['activity'], (input: unknown) => Promise<unknown>>>({
  startToCloseTimeout: '1 minute',
});

export async function minimalChain(chain: readonly ChainCall[]): Promise<number> {
  for (const call of chain) await calls[call.activity](call.input);
  return chain.length;
}

/** The activity names the chain calls: those of the work item's steps and gates. */
export type ChainActivities = Pick<WorkItemActivities, ChainCall['activity']>;
