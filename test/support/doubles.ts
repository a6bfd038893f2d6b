// Test doubles for the work-item activities: scripted answers, every call recorded.
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeat, sleep as activitySleep, Context } from '@temporalio/activity';
import type {
  GateInput,
  GateOutcome,
  ProductionRollbackInput,
  ProductionRollbackResult,
  StepInput,
  StepResult,
  TrackerSyncInput,
  WorkItemActivities,
} from '../../src/domain';

export type StepScript = (input: StepInput, call: number) => StepResult | Promise<StepResult>;
export type GateScript = (input: GateInput, call: number) => GateOutcome | Promise<GateOutcome>;
export type RollbackScript = (
  input: ProductionRollbackInput,
  call: number,
) => ProductionRollbackResult | Promise<ProductionRollbackResult>;

export interface ScriptedActivities {
  readonly activities: WorkItemActivities;
  readonly stepCalls: StepInput[];
  readonly gateCalls: GateInput[];
  readonly trackerCalls: TrackerSyncInput[];
  readonly releasedWorkspaces: string[];
  readonly rollbackCalls: ProductionRollbackInput[];
}

const pass: GateScript = (input) => ({ gate: input.gate, verdict: 'PASS', findings: [] });
const done: StepScript = () => ({ costUsd: 0.25, sessionId: undefined });

export function scriptedActivities(
  scripts: { step?: StepScript; gate?: GateScript; rollback?: RollbackScript } = {},
): ScriptedActivities {
  const stepCalls: StepInput[] = [];
  const gateCalls: GateInput[] = [];
  const trackerCalls: TrackerSyncInput[] = [];
  const releasedWorkspaces: string[] = [];
  const rollbackCalls: ProductionRollbackInput[] = [];
  const step = async (input: StepInput): Promise<StepResult> => {
    stepCalls.push(input);
    return (scripts.step ?? done)(input, stepCalls.filter((c) => c.stage === input.stage).length);
  };
  return {
    stepCalls,
    gateCalls,
    trackerCalls,
    releasedWorkspaces,
    rollbackCalls,
    activities: {
      // No lease by default: the merge gate runs at once (the lease has tests of its own).
      requestMergeLease: async () => ({}),
      releaseWorkspace: async (input) => {
        releasedWorkspaces.push(input.ticket);
      },
      syncTracker: async (input) => {
        trackerCalls.push(input);
        return { summary: 'recorded by the test double' };
      },
      // One call per batch; each notice is recorded as the single-notice activity would have been.
      syncTrackerNotices: async ({ notices, ...item }) => {
        for (const notice of notices) trackerCalls.push({ ...item, notice });
        return { summary: 'recorded by the test double' };
      },
      runAgent: step,
      deployStaging: step,
      deployProduction: step,
      rollbackProduction: async (input) => {
        rollbackCalls.push(input);
        return (scripts.rollback ?? (() => ({ ok: true, detail: 'rolled back by the test double' })))(
          input,
          rollbackCalls.length,
        );
      },
      runGate: async (input) => {
        gateCalls.push(input);
        return (scripts.gate ?? pass)(
          input,
          gateCalls.filter((c) => c.stage === input.stage && c.gate === input.gate).length,
        );
      },
    },
  };
}

/** A step that runs until cancelled, heartbeating so the cancellation reaches it. */
export async function runUntilCancelled(onCancel: () => void): Promise<never> {
  try {
    for (;;) {
      heartbeat();
      await activitySleep(20);
    }
  } catch (err) {
    if (Context.current().cancellationSignal.aborted) onCancel();
    throw err;
  }
}

let mockRuns = 0;

/**
 * A MockActivityEnvironment whose activity has ids of its own: the SDK's defaults are the same for
 * every mock, and an agent run's session (and the leftover-killer that goes by it) derives from them.
 */
export function uniqueMockActivityEnvironment(
  info: Partial<import('@temporalio/activity').Info> = {},
): MockActivityEnvironment {
  mockRuns += 1;
  const id = `mock-${process.pid}-${mockRuns}-${Date.now()}`;
  return new MockActivityEnvironment({
    activityId: id,
    workflowExecution: { workflowId: `test/${id}`, runId: crypto.randomUUID() },
    ...info,
  });
}
