// What the sender of a journalled delivery is told: a body seen before, a dead letter, what the
// forwarder made of it within the wait, or `queued`. Every case is a 202: the delivery is safe.
import type { Forwarder } from '../../intake/forwarder';
import type { AppendResult } from '../../intake/journal';

export interface JournalledAnswer {
  readonly outcome: string;
  readonly body: Record<string, unknown>;
}

/**
 * Offers a new entry to the forwarder and waits up to `waitMs` (none while Temporal is known to
 * be down) for it to settle. `resolved`: the delivery was mapped before it was journalled.
 */
export async function journalledAnswer(
  forwarder: Forwarder,
  appended: AppendResult,
  waitMs: number,
  resolved: boolean,
): Promise<JournalledAnswer> {
  const { entry } = appended;
  if (appended.kind === 'duplicate')
    return {
      outcome: 'duplicate',
      body: { entry: entry.id, state: entry.state, reason: 'this body was received before' },
    };
  if (entry.state === 'dead') return { outcome: 'dead-lettered', body: { entry: entry.id, reason: entry.lastError } };
  const wait = forwarder.paused() ? 0 : waitMs;
  const settled = wait > 0 ? forwarder.settled(entry.id, wait) : Promise.resolve(undefined);
  forwarder.offer(entry);
  const result = await settled;
  if (!result)
    return {
      outcome: 'queued',
      body: {
        entry: entry.id,
        resolved,
        reason: 'journalled; it is forwarded to the work item as soon as Temporal takes it',
      },
    };
  if (result.kind === 'dead') return { outcome: 'dead-lettered', body: { entry: entry.id, reason: result.reason } };
  return {
    outcome: result.outcome,
    body: {
      entry: entry.id,
      ...(result.workflowId ? { workflowId: result.workflowId } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    },
  };
}
