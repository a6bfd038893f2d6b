// Plane Community Edition v1 webhook deliveries: schema and mapping to actions.
// Webhooks are workspace-wide: the project is found from data.project. Work-item payloads carry
// the project UUID and sequence number, comments only the work item's UUID, so the ticket id
// ("SHOP-42") is built from the project's identifier looked up (and cached) through the API.
import { z } from 'zod';
import { ConfigError, type AppConfig } from '../../config';
import { isPlaneTriggered, planeStateAction, planeStateId } from '../../tracker/plane-trigger';
import type { PlaneDirectory } from '../../tracker/plane-directory';
import { ignore, type WebhookAction } from './actions';
import { parseCommentCommand } from './comment-commands';
import { htmlToText } from '../../util/html';
import { priorityKeyOf } from '../../domain/hosts';
import { PayloadError, parsePayload } from './errors';
import { projectByPlaneId } from './tickets';

/** Ids that go into Plane API paths are UUIDs and nothing else (no `../users/me`). */
const uuid = z.guid();
/** Ticket numbers as ticket ids allow them (at most 9 digits). */
const sequenceId = z.number().int().positive().max(999_999_999);
const actor = z.looseObject({ id: z.string(), display_name: z.string().optional() });
const envelope = z.looseObject({
  event: z.string(),
  action: z.string(),
  data: z.looseObject({ project: uuid }),
  activity: z
    .looseObject({
      field: z.string().nullish(),
      new_value: z.unknown().optional(),
      old_value: z.unknown().optional(),
      new_identifier: z.string().nullish(),
      actor: actor.nullish(),
    })
    .nullish(),
});
const workItem = z.looseObject({
  id: uuid,
  sequence_id: sequenceId,
  name: z.string(),
  description_html: z.string().nullish(),
  description_stripped: z.string().nullish(),
  /** urgent, high, medium, low or none: the item's place in the claim queues (ADR-0021). */
  priority: z.string().nullish(),
  state: z.union([z.string(), z.looseObject({ id: z.string() })]).nullish(),
  labels: z.array(z.union([z.string(), z.looseObject({ id: z.string(), name: z.string().optional() })])).default([]),
});
const comment = z.looseObject({
  issue: uuid,
  comment_html: z.string().default(''),
  comment_stripped: z.string().nullish(),
  actor: z.string().nullish(),
});

export interface PlaneContext {
  readonly config: AppConfig;
  readonly directory: PlaneDirectory;
  readonly botUserId?: string;
  /** Base URL of the Plane web app, for links in the work item's summary. */
  readonly webUrl?: string;
  readonly workspace?: string;
}

/** Plane Cloud's "v2" webhooks have another shape; say so instead of guessing. */
export function isPlaneV2(payload: unknown): boolean {
  const p = payload as { version?: unknown; event?: unknown; event_id?: unknown } | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    (p.version !== undefined || p.event_id !== undefined || (typeof p.event === 'string' && p.event.includes('.')))
  );
}

/** The v1 events this intake handles; any other is answered 202 `ignored`. */
const HANDLED_EVENTS = ['issue', 'issue_comment'];

export async function mapPlaneDelivery(payload: unknown, ctx: PlaneContext, eventHeader = ''): Promise<WebhookAction> {
  if (isPlaneV2(payload))
    throw new PayloadError(
      'Plane v2 webhooks (workitem.*) are not supported: configure a v1 webhook in the workspace settings',
    );
  const event = (payload as { event?: unknown } | null)?.event;
  if (eventHeader !== '' && typeof event === 'string' && event !== eventHeader) {
    throw new PayloadError(
      `X-Plane-Event ${JSON.stringify(eventHeader.slice(0, 40))} does not match the body's event ${JSON.stringify(event.slice(0, 40))}`,
    );
  }
  if (typeof event === 'string' && !HANDLED_EVENTS.includes(event))
    return ignore(`Plane event ${event.slice(0, 40)} is not handled`);
  const delivery = parsePayload(envelope, payload, 'Plane webhook');
  const found = projectByPlaneId(ctx.config, delivery.data.project);
  if (!found) return ignore(`Plane project ${delivery.data.project} is not configured`);
  const who = delivery.activity?.actor;
  if (ctx.botUserId && who?.id === ctx.botUserId) return ignore('own action by the orchestrator');
  const [project, projectConfig] = found;
  const plane = projectConfig.plane!;
  const action = delivery.action.replace(/^update$/, 'updated').replace(/^delete$/, 'deleted');
  const ticketOf = async (sequence: number): Promise<string> => {
    const identifier = await ctx.directory.projectIdentifier(plane.projectId);
    if (identifier !== projectConfig.ticketPrefix) {
      throw new ConfigError(
        `Plane project identifier ${identifier} differs from ticketPrefix ${projectConfig.ticketPrefix} configured for ${project}`,
      );
    }
    return `${identifier}-${sequence}`;
  };
  const by = who?.display_name ?? who?.id ?? 'plane';

  if (delivery.event === 'issue') {
    const item = parsePayload(workItem, delivery.data, 'Plane work item');
    const ticket = await ticketOf(item.sequence_id);
    const start = (why: string): WebhookAction => ({
      kind: 'start',
      project,
      info: {
        ticket,
        title: item.name,
        description: item.description_stripped ?? htmlToText(item.description_html ?? ''),
        url:
          ctx.webUrl && ctx.workspace
            ? `${ctx.webUrl.replace(/\/$/, '')}/${ctx.workspace}/projects/${plane.projectId}/issues/${item.id}`
            : undefined,
        priority: planePriority(item.priority),
      },
      event: { source: 'plane', type: 'ticket.created', summary: `${why} by ${by}`, title: item.name },
    });
    if (action === 'created') {
      if (isPlaneTriggered(plane, planeStateId(item.state), item.labels))
        return start('created in the trigger state or label');
      return ignore(`${ticket} is not in the trigger state or label`);
    }
    const cancel = (reason: string): WebhookAction => ({
      kind: 'override',
      project,
      ticket,
      request: { kind: 'cancel', args: { reason } },
      by,
    });
    if (action === 'deleted') return cancel('deleted in Plane');
    if (action !== 'updated') return ignore(`Plane issue action ${delivery.action} is not handled`);
    const field = delivery.activity?.field ?? '';
    const newId =
      delivery.activity?.new_identifier ??
      (typeof delivery.activity?.new_value === 'string' ? delivery.activity.new_value : undefined);
    if (field === 'state' || field === 'state_id') {
      const group = newId ? await ctx.directory.stateGroup(plane.projectId, newId) : undefined;
      const stateName = typeof delivery.activity?.new_value === 'string' ? delivery.activity.new_value : newId;
      switch (newId ? planeStateAction(plane, newId, group) : 'none') {
        case 'start':
          // A paused item resumes on this event (WorkItemMachine.recordEvent).
          return start('moved to the trigger state');
        case 'cancel':
          return cancel(group === 'cancelled' ? 'cancelled in Plane' : `moved to ${stateName} in Plane`);
        case 'pause':
          return {
            kind: 'override',
            project,
            ticket,
            request: { kind: 'pause', args: { reason: `moved to ${stateName} in Plane` } },
            by,
          };
        case 'none':
          break;
      }
      return {
        kind: 'signal',
        project,
        ticket,
        event: {
          source: 'plane',
          type: 'plane.state_changed',
          summary: `state changed to ${String(delivery.activity?.new_value)} by ${by}`,
        },
      };
    }
    if (field === 'labels' && plane.triggerLabel !== undefined && delivery.activity?.new_value === plane.triggerLabel)
      return start('given the trigger label');
    if (field === 'name' || field === 'description') {
      return {
        kind: 'signal',
        project,
        ticket,
        event: {
          source: 'plane',
          type: 'ticket.updated',
          summary: `${field} edited by ${by}`,
          ...(field === 'name'
            ? { title: item.name }
            : { description: item.description_stripped ?? htmlToText(item.description_html ?? '') }),
        },
      };
    }
    return ignore(`change of ${field || 'an unknown field'} is not used`);
  }

  if (delivery.event === 'issue_comment') {
    if (action !== 'created') return ignore(`comment ${delivery.action} is not used`);
    const c = parsePayload(comment, delivery.data, 'Plane comment');
    const ticket = await ticketOf(await ctx.directory.workItemSequence(plane.projectId, c.issue));
    const text = htmlToText(c.comment_html) || (c.comment_stripped ?? '');
    const command = parseCommentCommand(text);
    if (!command)
      return {
        kind: 'signal',
        project,
        ticket,
        event: { source: 'plane', type: 'plane.comment', summary: `comment by ${by}: ${text.slice(0, 500)}` },
      };
    if (!command.ok) return ignore(command.error);
    const actorId = who?.id ?? c.actor ?? '';
    if (!plane.operators.includes(actorId)) return ignore(`${by} is not an operator of ${project}; command ignored`);
    return { kind: 'override', project, ticket, request: command.request, by };
  }

  return ignore(`Plane event ${delivery.event} is not handled`);
}

/** Plane's priority name as a Temporal priority key; a value Plane may add later counts as none. */
function planePriority(value: string | null | undefined): number | undefined {
  try {
    return priorityKeyOf(value);
  } catch {
    return undefined;
  }
}
