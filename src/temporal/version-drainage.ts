// Before a release stops the old build's workers: the workflows pinned to that build (the catch-up
// job's runs, ADR-0028) must have ended, or they would wait for a worker of it forever. The
// server's own drainage status trails by minutes; visibility answers now.
import type { Client } from '@temporalio/client';

/** Waits until no open pinned workflow of this task queue runs on `buildId`; answers how many are left. */
export async function waitUntilDrained(
  client: Client,
  taskQueue: string,
  deploymentName: string,
  buildId: string,
  timeoutMs: number,
): Promise<number> {
  const query = [
    `ExecutionStatus = 'Running'`,
    `TaskQueue = '${taskQueue}'`,
    `TemporalWorkflowVersioningBehavior = 'Pinned'`,
    `TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}'`,
  ].join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count === 0 || Date.now() >= deadline) return count;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
