// When a Plane work item should become a work item: it sits in the project's trigger state, or
// carries its trigger label. One rule for webhook intake and for the catch-up job.

export interface PlaneTrigger {
  readonly triggerState?: string;
  readonly triggerLabel?: string;
}

/** Labels arrive as objects with names (webhooks) or as bare ids (list API): only names can match. */
export type PlaneLabel = string | { readonly id: string; readonly name?: string };

export function isPlaneTriggered(
  trigger: PlaneTrigger,
  stateId: string | undefined,
  labels: readonly PlaneLabel[],
): boolean {
  if (trigger.triggerState !== undefined && stateId === trigger.triggerState) return true;
  return (
    trigger.triggerLabel !== undefined && labels.some((l) => typeof l !== 'string' && l.name === trigger.triggerLabel)
  );
}

export function planeStateId(state: string | { readonly id: string } | null | undefined): string | undefined {
  return typeof state === 'string' ? state : state?.id;
}
