// The activity interface the work-item workflow calls. Implementations live in src/activities;
// the workflow sees only these signatures.
import type { GateOutcome } from './gates';
import type { GateInput, StepInput, StepResult } from './work-item';

export interface WorkItemActivities {
  runAgent(input: StepInput): Promise<StepResult>;
  deployStaging(input: StepInput): Promise<StepResult>;
  deployProduction(input: StepInput): Promise<StepResult>;
  runGate(input: GateInput): Promise<GateOutcome>;
}

export type WorkItemActivityName = keyof WorkItemActivities;
export const WORK_ITEM_ACTIVITY_NAMES: readonly WorkItemActivityName[] = ['runAgent', 'deployStaging', 'deployProduction', 'runGate'];
