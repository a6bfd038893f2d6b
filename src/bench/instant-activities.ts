// Work-item activities that answer at once (every gate passes, every step costs nothing), for
// the bench: what is measured is the engine and the workflow around the work, not the work.
// Each call is recorded, so the bare baseline can replay the very steps and gates an item ran.
import { needsPerson } from '../activities/failures';
import type { WorkItemActivities } from '../domain';
import type { ChainCall } from './workflows/minimal-chain';

export interface InstantActivities {
  readonly activities: WorkItemActivities;
  /** While set, every agent step needs a person: the item blocks at analysis and waits. */
  blockAgents: boolean;
  /** Step and gate calls since the last `take()`, in order. */
  take(): ChainCall[];
  /** Calls by activity name since the last `take()` (the tracker, lease and workspace ones too). */
  readonly counts: Map<string, number>;
}

export function instantActivities(): InstantActivities {
  let chain: ChainCall[] = [];
  const counts = new Map<string, number>();
  const count = (name: string): void => void counts.set(name, (counts.get(name) ?? 0) + 1);
  const self = { blockAgents: false };
  const step =
    (activity: ChainCall['activity']) =>
    async (input: unknown): Promise<{ costUsd: number }> => {
      count(activity);
      if (self.blockAgents && activity === 'runAgent') throw needsPerson('bench: this item waits for a person');
      chain.push({ activity, input });
      return { costUsd: 0 };
    };
  const activities: WorkItemActivities = {
    runAgent: step('runAgent'),
    deployStaging: step('deployStaging'),
    deployProduction: step('deployProduction'),
    runGate: async (input) => {
      count('runGate');
      chain.push({ activity: 'runGate', input });
      return { gate: input.gate, verdict: 'PASS', findings: [] };
    },
    rollbackProduction: async () => ({ ok: true, detail: 'not used by the bench' }),
    syncTracker: async () => (count('syncTracker'), { summary: 'bench: nothing to tell' }),
    syncTrackerNotices: async () => (count('syncTrackerNotices'), { summary: 'bench: nothing to tell' }),
    requestMergeLease: async () => (count('requestMergeLease'), {}),
    releaseWorkspace: async () => void count('releaseWorkspace'),
  };
  return Object.assign(self, {
    counts,
    activities,
    take() {
      const taken = chain;
      chain = [];
      counts.clear();
      return taken;
    },
  });
}
