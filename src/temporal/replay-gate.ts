// The release's replay gate (#19, ADR-0028): before a new build takes any routing, the histories of
// the workflows that are open now are replayed against its workflow bundle. A change that is not
// behind patched() fails here, by name, instead of failing workflow tasks of running items.
import type { Client } from '@temporalio/client';
import { UNTRACED_SINKS } from './workflow-bundle-file';

/** The workflow types an upgrade moves to the new build (the pinned catch-up job is not one). */
const UPGRADED_TYPES = ['workItem', 'repositoryLease'];

export interface ReplayGateResult {
  readonly replayed: number;
  readonly failures: readonly { readonly workflowId: string; readonly error: string }[];
  /** More open workflows than the limit: the newest `replayed` were checked. */
  readonly truncated: boolean;
}

/** Replays the open workflows of one orchestrator (its task queue) against the bundle at `bundlePath`. */
export async function replayOpenWorkflows(
  client: Client,
  taskQueue: string,
  bundlePath: string,
  limit: number,
): Promise<ReplayGateResult> {
  // Loaded here: the worker's native runtime is needed only by this command.
  const { DefaultLogger, Runtime, Worker } = await import('@temporalio/worker');
  // The failures are reported below, by workflow; the SDK's own warning per failed task is noise
  // in a release log. A process that installed its runtime already (a test) keeps its own.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed before
  }
  const types = UPGRADED_TYPES.map((t) => `'${t}'`).join(', ');
  const query = `ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}' AND WorkflowType IN (${types})`;
  const ids: { workflowId: string; runId: string }[] = [];
  let truncated = false;
  for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit + 1, 1000) })) {
    if (ids.length === limit) {
      truncated = true;
      break;
    }
    ids.push({ workflowId: execution.workflowId, runId: execution.runId });
  }
  async function* histories() {
    for (const { workflowId, runId } of ids) {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      yield { workflowId, history };
    }
  }
  const failures: { workflowId: string; error: string }[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: bundlePath }, sinks: UNTRACED_SINKS },
    histories(),
  )) {
    replayed += 1;
    if (result.error) failures.push({ workflowId: result.workflowId, error: result.error.message });
  }
  return { replayed, failures, truncated };
}
