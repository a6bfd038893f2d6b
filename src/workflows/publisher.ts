// The item's state as the Web UI and visibility see it: current details and search attributes.
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { workItemSearchAttributes, type WorkItemState } from '../domain';
import { renderDetails } from './details';
import type { Patched } from './patches';

/**
 * Returns `publish()`, called after every state change. Since `coalesced-publish` the upsert waits
 * for the end of the current workflow task (a microtask) and is skipped when nothing it carries
 * changed: one upsert per task at most, not one per state change.
 */
export function statePublisher(state: WorkItemState, patched: Patched): () => void {
  /** patched('coalesced-publish'), asked once per run (at the first publish). */
  let coalesce: boolean | undefined;
  let queued = false;
  let lastAttributes: string | undefined;
  return function publish(): void {
    setCurrentDetails(renderDetails(state));
    coalesce ??= patched('coalesced-publish');
    if (!coalesce) {
      upsertSearchAttributes([...workItemSearchAttributes(state)]);
      return;
    }
    if (queued) return;
    queued = true;
    void Promise.resolve().then(() => {
      queued = false;
      const attributes = [...workItemSearchAttributes(state)];
      const fingerprint = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
      if (fingerprint === lastAttributes) return;
      lastAttributes = fingerprint;
      upsertSearchAttributes(attributes);
    });
  };
}
