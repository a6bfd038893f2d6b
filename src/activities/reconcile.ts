// The catch-up activity: for every project with a Plane project, starts the work items whose
// ticket sits in the trigger state or label without a workflow, and cancels running ones whose
// ticket was cancelled. Deduplication keys make a repeated run harmless.
import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import type { ReconcileResult } from '../domain/reconcile';
import { submitWorkItem, workItemHandle } from '../client/work-items';
import { htmlToText } from '../util/html';
import type { PlaneClient } from '../tracker/plane-client';
import { isPlaneTriggered, planeStateId } from '../tracker/plane-trigger';
import { cancelUpdate } from '../workflows/messages';

export interface ReconcileDeps {
  readonly config: AppConfig;
  readonly client: Client;
  readonly plane?: PlaneClient;
}

export function createReconcileActivities(deps: ReconcileDeps) {
  return {
    async reconcilePlane(): Promise<ReconcileResult> {
      const started: string[] = [];
      const cancelled: string[] = [];
      const skipped: string[] = [];
      for (const [project, config] of Object.entries(deps.config.projects)) {
        if (!config.plane) {
          skipped.push(`${project}: no Plane project configured`);
          continue;
        }
        if (!deps.plane) {
          skipped.push(`${project}: the Plane API is not configured`);
          continue;
        }
        const planeProject = config.plane.projectId;
        const groups = new Map((await deps.plane.states(planeProject)).map((s) => [s.id, s.group]));
        for await (const item of deps.plane.workItems(planeProject)) {
          heartbeat(item.sequence_id);
          const ticket = `${config.ticketPrefix}-${item.sequence_id}`;
          const handle = workItemHandle(deps.client, project, ticket);
          const running = await isRunning(handle);
          const stateId = planeStateId(item.state);
          // An item whose workflow has ended (done, cancelled) is left alone.
          if (running === undefined && isPlaneTriggered(config.plane, stateId, item.labels ?? [])) {
            await submitWorkItem(
              deps.client,
              deps.config,
              project,
              {
                ticket,
                title: item.name,
                description: item.description_stripped ?? htmlToText(item.description_html ?? ''),
              },
              {
                key: `plane:reconcile:${item.id}`,
                source: 'plane',
                type: 'ticket.created',
                summary: 'started by the catch-up job (missed webhook)',
              },
            );
            started.push(ticket);
          } else if (running && stateId !== undefined && groups.get(stateId) === 'cancelled') {
            await handle.startUpdate(cancelUpdate, {
              args: [{ by: 'catch-up job', reason: 'cancelled in Plane' }],
              updateId: `plane:reconcile-cancel:${item.id}`,
              waitForStage: WorkflowUpdateStage.ACCEPTED,
            });
            cancelled.push(ticket);
          }
        }
      }
      return { started, cancelled, skipped };
    },
  };
}

/** true running, false ended, undefined never started. */
async function isRunning(handle: ReturnType<typeof workItemHandle>): Promise<boolean | undefined> {
  try {
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
