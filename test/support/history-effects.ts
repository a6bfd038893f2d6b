// What reached a work item's workflow, read from its history: the key of every event signal
// (the start's signal included) and the id of every accepted update, in history order.
import type { Client } from '@temporalio/client';

export async function historyEffects(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const effects: string[] = [];
  for (const event of history.events ?? []) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal) {
      const data = signal.input?.payloads?.[0]?.data;
      effects.push(data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { key: string }).key : '(no input)');
    }
    const update = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (update) effects.push(update.acceptedRequest?.meta?.updateId ?? '(no id)');
  }
  return effects;
}
