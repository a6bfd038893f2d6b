// The catch-up activity: for every project with a Plane project, starts the work items whose
// ticket sits in the trigger state or carries the trigger label without a workflow, and cancels
// running ones whose ticket was cancelled. Deduplication keys make a repeated run harmless. Each
// project is caught up on its own: one project's failing Plane API is logged, counted and
// reported, and the others still catch up.
import { heartbeat, log } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { AppConfig, ProjectConfig } from '../config';
import type { ReconcileResult } from '../domain/reconcile';
import { submitWorkItem, workItemHandle } from '../client/work-items';
import { htmlToText } from '../util/html';
import type { PlaneClient } from '../tracker/plane-client';
import { isPlaneTriggered, namedLabels, planeStateId } from '../tracker/plane-trigger';
import { cancelUpdate } from '../workflows/messages';
import { reconcileFailures, reconcileLastSuccess } from './metrics';

export interface ReconcileDeps {
  readonly config: AppConfig;
  readonly client: Client;
  readonly plane?: PlaneClient;
}

/** Label names change rarely: asked again after this long. */
const LABEL_CACHE_MS = 10 * 60 * 1000;

interface Outcome {
  readonly started: string[];
  readonly cancelled: string[];
}

export function createReconcileActivities(deps: ReconcileDeps) {
  const labelCache = new Map<string, { readonly at: number; readonly names: ReadonlyMap<string, string> }>();

  /** The project's label names by id, cached per Plane project. */
  async function labelNames(plane: PlaneClient, planeProject: string): Promise<ReadonlyMap<string, string>> {
    const cached = labelCache.get(planeProject);
    if (cached && Date.now() - cached.at < LABEL_CACHE_MS) return cached.names;
    const names = new Map((await plane.labels(planeProject)).map((l) => [l.id, l.name]));
    labelCache.set(planeProject, { at: Date.now(), names });
    return names;
  }

  async function catchUp(plane: PlaneClient, project: string, config: ProjectConfig, into: Outcome): Promise<void> {
    const trigger = config.plane as NonNullable<ProjectConfig['plane']>;
    const planeProject = trigger.projectId;
    const groups = new Map((await plane.states(planeProject)).map((s) => [s.id, s.group]));
    // Only a label trigger needs the names (the list API gives ids).
    const names = trigger.triggerLabel ? await labelNames(plane, planeProject) : new Map<string, string>();
    for await (const item of plane.workItems(planeProject)) {
      heartbeat(`${project}:${item.sequence_id}`);
      const ticket = `${config.ticketPrefix}-${item.sequence_id}`;
      const handle = workItemHandle(deps.client, project, ticket);
      const running = await isRunning(handle);
      const stateId = planeStateId(item.state);
      // An item whose workflow has ended (done, cancelled) is left alone.
      if (running === undefined && isPlaneTriggered(trigger, stateId, namedLabels(item.labels ?? [], names))) {
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
        into.started.push(ticket);
      } else if (running && stateId !== undefined && groups.get(stateId) === 'cancelled') {
        await handle.startUpdate(cancelUpdate, {
          args: [{ by: 'catch-up job', reason: 'cancelled in Plane' }],
          updateId: `plane:reconcile-cancel:${item.id}`,
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
        into.cancelled.push(ticket);
      }
    }
  }

  return {
    async reconcilePlane(): Promise<ReconcileResult> {
      const outcome: Outcome = { started: [], cancelled: [] };
      const skipped: string[] = [];
      const failed: string[] = [];
      for (const [project, config] of Object.entries(deps.config.projects)) {
        if (!config.plane) {
          skipped.push(`${project}: no Plane project configured`);
          continue;
        }
        if (!deps.plane) {
          skipped.push(`${project}: the Plane API is not configured`);
          continue;
        }
        try {
          await catchUp(deps.plane, project, config, outcome);
          reconcileLastSuccess.set({ project }, Date.now() / 1000);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          reconcileFailures.inc({ project });
          log.warn('catch-up failed for a project; the others go on', { project, reason });
          failed.push(`${project}: ${reason}`);
        }
      }
      return { ...outcome, skipped, failed };
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
