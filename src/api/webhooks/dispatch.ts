// Carries out a webhook action against Temporal. Answers what happened; a Temporal that cannot
// be reached is reported as `unavailable` so the API can answer 503.
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import type { AppConfig } from '../../config';
import { submitWorkItem, workItemHandle } from '../../client/work-items';
import { describeClientError } from '../../client/errors';
import { OVERRIDE_UPDATES, eventSignal } from '../../workflows/messages';
import type { WebhookAction } from './actions';

export type DispatchOutcome =
  | { readonly outcome: 'started' | 'signalled' | 'override-accepted'; readonly workflowId: string }
  | { readonly outcome: 'ignored' | 'rejected'; readonly reason: string }
  | { readonly outcome: 'unavailable'; readonly reason: string };

export async function dispatch(
  client: Client,
  config: AppConfig,
  action: WebhookAction,
  key: string,
): Promise<DispatchOutcome> {
  if (action.kind === 'ignore') return { outcome: 'ignored', reason: action.reason };
  const deadline = Date.now() + config.env.ORCH_WEBHOOK_SIGNAL_TIMEOUT_MS;
  try {
    return await client.withDeadline(deadline, () => run(client, config, action, key));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { outcome: 'ignored', reason: 'no such work item' };
    if (err instanceof WorkflowUpdateFailedError) return { outcome: 'rejected', reason: describeClientError(err) };
    if (isUnavailable(err)) return { outcome: 'unavailable', reason: 'Temporal is not reachable' };
    throw err;
  }
}

async function run(
  client: Client,
  config: AppConfig,
  action: Exclude<WebhookAction, { kind: 'ignore' }>,
  key: string,
): Promise<DispatchOutcome> {
  switch (action.kind) {
    case 'start': {
      const { workflowId } = await submitWorkItem(client, config, action.project, action.info, {
        ...action.event,
        key,
      });
      return { outcome: 'started', workflowId };
    }
    case 'signal': {
      const handle = workItemHandle(client, action.project, action.ticket);
      await handle.signal(eventSignal, { ...action.event, key });
      return { outcome: 'signalled', workflowId: handle.workflowId };
    }
    case 'override': {
      const handle = workItemHandle(client, action.project, action.ticket);
      // The delivery key is the update id: a re-sent delivery is the same update, applied once.
      // Accepted is enough to answer; a rollback may wait for a running agent to stop.
      await handle.startUpdate(OVERRIDE_UPDATES[action.request.kind] as typeof OVERRIDE_UPDATES.approve, {
        args: [{ ...action.request.args, by: action.by }],
        updateId: key,
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      return { outcome: 'override-accepted', workflowId: handle.workflowId };
    }
  }
}

// gRPC status codes UNAVAILABLE (14) and DEADLINE_EXCEEDED (4).
const UNAVAILABLE = new Set([14, 4]);

/** Temporal could not be reached (or not within the deadline): the sender should record a failure. */
function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && UNAVAILABLE.has(e.code)) return true;
    if (e instanceof ServiceError && /unavailable|deadline|connect/i.test(e.message)) return true;
  }
  return false;
}
