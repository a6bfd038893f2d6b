// `orch workspaces`: the agents' checkouts under <data>/workspaces on this machine, with the state
// of their work items. A delivered item's checkout is removed by the workflow; a cancelled or
// failed one is kept for inspection until `orch workspaces clean` removes it.
import { WorkflowNotFoundError } from '@temporalio/client';
import { workItemWorkflowId } from '../domain';
import { listWorkspaces, removeWorkspace, type WorkspaceEntry } from '../activities/workspace/workspace';
import { CliError, type CommandContext, type CommandOutput } from './context';

type ItemStatus = 'running' | 'closed' | 'unknown';

interface WorkspaceRow extends WorkspaceEntry {
  readonly item: ItemStatus;
}

export async function workspacesCommand(positionals: readonly string[], ctx: CommandContext): Promise<CommandOutput> {
  const [action, ticket] = positionals;
  const rows = await withStatus(listWorkspaces(ctx.config.dataDir), ctx);
  if (action === undefined) {
    const text =
      rows.length === 0 ? 'no workspaces' : rows.map((r) => `${r.project}/${r.ticket}  ${r.item}  ${r.dir}`).join('\n');
    return { json: rows, text };
  }
  if (action !== 'clean')
    throw new CliError(`workspaces: unknown action ${JSON.stringify(action)} (use: orch workspaces [clean [TICKET]])`);
  const targets = ticket ? rows.filter((r) => r.ticket === ticket) : rows.filter((r) => r.item !== 'running');
  if (ticket && targets.length === 0)
    throw new CliError(`workspaces: no workspace for ${ticket} in ${ctx.config.dataDir}`);
  const running = targets.filter((r) => r.item === 'running');
  if (running.length > 0) {
    // Its next agent run would start from origin and lose whatever was not committed yet.
    throw new CliError(`workspaces: ${running.map((r) => r.ticket).join(', ')} is still running; cancel it first`);
  }
  for (const row of targets) removeWorkspace(ctx.config.dataDir, row.project, row.ticket);
  return {
    json: { removed: targets },
    text:
      targets.length === 0
        ? 'nothing to clean'
        : `removed ${targets.map((r) => `${r.project}/${r.ticket}`).join(', ')}`,
  };
}

async function withStatus(entries: WorkspaceEntry[], ctx: CommandContext): Promise<WorkspaceRow[]> {
  if (entries.length === 0) return [];
  const client = await ctx.client();
  return Promise.all(
    entries.map(async (entry) => {
      try {
        const described = await client.workflow.getHandle(workItemWorkflowId(entry.project, entry.ticket)).describe();
        return { ...entry, item: described.status.name === 'RUNNING' ? 'running' : 'closed' } as WorkspaceRow;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { ...entry, item: 'unknown' } as WorkspaceRow;
        throw err;
      }
    }),
  );
}
