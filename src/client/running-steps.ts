// What a work item is doing right now, from its pending activities and their last heartbeat: the
// agent's phase, newest stream event and sandbox mode. The state query does not hold these (they
// change with every heartbeat); `orch status` shows both.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { workItemWorkflowId } from '../domain';

export interface RunningStep {
  readonly activity: string;
  readonly attempt: number;
  /** When the step last heartbeated (ISO), if it did. */
  readonly lastHeartbeatAt?: string;
  /** The heartbeat's details (for an agent run: phase, lastEvent, sandbox, ...). */
  readonly details?: Record<string, unknown>;
}

export async function runningSteps(client: Client, project: string, ticket: string): Promise<RunningStep[]> {
  const description = await client.workflow.getHandle(workItemWorkflowId(project, ticket)).describe();
  return (description.raw.pendingActivities ?? []).map((pending) => {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    let details: Record<string, unknown> | undefined;
    try {
      const value: unknown = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
      if (value && typeof value === 'object') details = value as Record<string, unknown>;
    } catch {
      // A heartbeat this version cannot read: shown without details.
    }
    const seconds = pending.lastHeartbeatTime?.seconds;
    return {
      activity: pending.activityType?.name ?? 'unknown',
      attempt: pending.attempt ?? 1,
      lastHeartbeatAt: seconds ? new Date(Number(seconds) * 1000).toISOString() : undefined,
      details,
    };
  });
}
