// Checkouts of ended items expire (ADR-0021's fleet keeps one per host that ran the item's work):
// a workspace whose item ended more than the retention ago is removed, with its agents' HOME; a
// running item's never is. An item Temporal no longer knows (its history aged out) counts from
// the checkout's last change. Each host sweeps its own disk: at worker start, then daily.
import fs from 'node:fs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workItemWorkflowId } from '../../domain';
import { listWorkspaces, removeWorkspace } from './workspace';

export interface SweepOptions {
  readonly dataDir: string;
  readonly retentionMs: number;
  readonly now?: number;
}

export interface SweepResult {
  readonly removed: string[];
  /** Kept because the item still runs or ended within the retention. */
  readonly kept: string[];
}

export async function sweepExpiredWorkspaces(client: Client, options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? Date.now();
  const result: SweepResult = { removed: [], kept: [] };
  for (const entry of listWorkspaces(options.dataDir)) {
    const name = `${entry.project}/${entry.ticket}`;
    const ended = await endedAt(client, entry.project, entry.ticket, entry.dir);
    if (ended === 'running' || now - ended < options.retentionMs) {
      result.kept.push(name);
      continue;
    }
    removeWorkspace(options.dataDir, entry.project, entry.ticket);
    result.removed.push(name);
  }
  return result;
}

/** When the item ended (ms), 'running', or for an item Temporal does not know, its checkout's last change. */
async function endedAt(client: Client, project: string, ticket: string, dir: string): Promise<number | 'running'> {
  try {
    const described = await client.workflow.getHandle(workItemWorkflowId(project, ticket)).describe();
    if (described.status.name === 'RUNNING') return 'running';
    return described.closeTime?.getTime() ?? fs.statSync(dir).mtimeMs;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return fs.statSync(dir).mtimeMs;
    throw err;
  }
}
