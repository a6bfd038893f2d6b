// The bench's baseline for a waiting work item: a bare workflow that waits for ever and answers
// one query (so the bench can make sure it is loaded in the worker's cache).
import { condition, defineQuery, setHandler } from '@temporalio/workflow';

export const readyQuery = defineQuery<boolean>('ready');

export async function waiting(): Promise<void> {
  setHandler(readyQuery, () => true);
  await condition(() => false);
}
