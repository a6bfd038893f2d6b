// The catch-up activity: for every project with a Plane project, starts the work items whose
// ticket sits in the trigger state or carries the trigger label without a workflow, and cancels
// running ones whose ticket was cancelled. Deduplication keys make a repeated run harmless. Each
// project is caught up on its own: one project's failing Plane API is logged, counted and
// reported, and the others still catch up.
import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AppConfig, ProjectConfig } from '../config';
import type { ReconcileResult } from '../domain/reconcile';
import { SA_BLOCKED } from '../domain/search-attributes';
import { submitWorkItem, workItemHandle } from '../client/work-items';
import { htmlToText } from '../util/html';
import type { PlaneClient } from '../tracker/plane-client';
import { isPlaneTriggered, namedLabels, planeStateAction, planeStateId } from '../tracker/plane-trigger';
import { eventSignal, stateQuery } from '../workflows/messages';
import { catchUpProject } from './catch-up-project';
import { overrideApplied } from './override-as-job';

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
  readonly paused: string[];
  readonly resumed: string[];
  readonly noticesRetried: string[];
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
    const states = new Map((await plane.states(planeProject)).map((s) => [s.id, s]));
    // Only a label trigger needs the names (the list API gives ids).
    const names = trigger.triggerLabel ? await labelNames(plane, planeProject) : new Map<string, string>();
    for await (const item of plane.workItems(planeProject)) {
      heartbeat(`${project}:${item.sequence_id}`);
      const ticket = `${config.ticketPrefix}-${item.sequence_id}`;
      const handle = workItemHandle(deps.client, project, ticket);
      const described = await describe(handle);
      const stateId = planeStateId(item.state);
      // An item whose workflow has ended (done, cancelled) is left alone.
      if (described === undefined && isPlaneTriggered(trigger, stateId, namedLabels(item.labels ?? [], names))) {
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
      } else if (described?.status.name === 'RUNNING' && stateId !== undefined) {
        // Only a blocked item can be paused here or wait on the tracker: the others need no query.
        const blocked = described.typedSearchAttributes.get(SA_BLOCKED) === true;
        if (blocked || planeStateAction(trigger, stateId, states.get(stateId)?.group) !== 'none')
          await followState(handle, item, stateId, blocked, into, ticket);
      }
    }

    /** A state change whose webhook was lost, and a tracker block the tracker may have healed. */
    async function followState(
      handle: ReturnType<typeof workItemHandle>,
      item: { readonly id: string; readonly updated_at?: string },
      stateId: string,
      blocked: boolean,
      into: Outcome,
      ticket: string,
    ): Promise<void> {
      const state = states.get(stateId);
      const action = planeStateAction(trigger, stateId, state?.group);
      if (action === 'cancel') {
        const reason =
          state?.group === 'cancelled' ? 'cancelled in Plane' : `moved to ${state?.name ?? stateId} in Plane`;
        if (await overrideApplied(handle, 'cancel', reason, `plane:reconcile-cancel:${item.id}`))
          into.cancelled.push(ticket);
        return;
      }
      const current = blocked || action === 'start' ? await handle.query(stateQuery) : undefined;
      if (action === 'pause') {
        if (current?.blocked?.kind === 'paused') return;
        const reason = `moved to ${state?.name ?? stateId} in Plane`;
        const updateId = `plane:reconcile-pause:${item.id}:${stateId}:${item.updated_at ?? current?.history.length ?? ''}`;
        if (await overrideApplied(handle, 'pause', reason, updateId)) into.paused.push(ticket);
        return;
      }
      if (!current) return;
      if (action === 'start' && current.blocked?.kind === 'paused') {
        // The same event the trigger state's webhook brings: it resumes a paused item.
        await handle.signal(eventSignal, {
          key: `plane:reconcile-trigger:${item.id}:${item.updated_at ?? current.blocked.at}`,
          source: 'plane',
          type: 'ticket.created',
          summary: 'back in the trigger state (seen by the catch-up job)',
        });
        into.resumed.push(ticket);
      } else if (current.blocked?.kind === 'tracker') {
        if (
          await overrideApplied(
            handle,
            'retry',
            'notices retried by the catch-up job',
            `plane:reconcile-tracker:${item.id}:${current.blocked.at}`,
          )
        )
          into.noticesRetried.push(ticket);
      }
    }
  }

  return {
    async reconcilePlane(): Promise<ReconcileResult> {
      const outcome: Outcome = { started: [], cancelled: [], paused: [], resumed: [], noticesRetried: [] };
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
        const plane = deps.plane;
        await catchUpProject('plane', project, failed, () => catchUp(plane, project, config, outcome));
      }
      return { ...outcome, skipped, failed };
    },
  };
}

/** The item's workflow, or undefined when it was never started. */
async function describe(handle: ReturnType<typeof workItemHandle>) {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
