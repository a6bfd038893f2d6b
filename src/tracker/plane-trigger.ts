// When a Plane work item should become a work item: it sits in the project's trigger state, or
// carries its trigger label. One rule for webhook intake and for the catch-up job.

export interface PlaneTrigger {
  readonly triggerState?: string;
  readonly triggerLabel?: string;
}

export type PlaneStateAction = 'start' | 'pause' | 'cancel' | 'none';

export interface PlaneStateRules extends PlaneTrigger {
  readonly onStateGroup?: Readonly<Record<string, 'pause' | 'cancel' | 'none'>>;
  readonly onState?: Readonly<Record<string, 'pause' | 'cancel' | 'none'>>;
}

/**
 * What a ticket's move to a state does to its work item: the trigger state starts (or resumes)
 * it; otherwise the state's own rule, else its group's. One rule for webhooks and the catch-up.
 */
export function planeStateAction(rules: PlaneStateRules, stateId: string, group: string | undefined): PlaneStateAction {
  if (stateId === rules.triggerState) return 'start';
  if (rules.onState && Object.hasOwn(rules.onState, stateId)) return rules.onState[stateId] as PlaneStateAction;
  if (group !== undefined && rules.onStateGroup && Object.hasOwn(rules.onStateGroup, group))
    return rules.onStateGroup[group] as PlaneStateAction;
  return group === 'cancelled' ? 'cancel' : 'none';
}

/** Labels arrive as objects with names (webhooks) or as bare ids (list API, resolved with namedLabels). */
export type PlaneLabel = string | { readonly id: string; readonly name?: string };

export function isPlaneTriggered(
  trigger: PlaneTrigger,
  stateId: string | undefined,
  labels: readonly PlaneLabel[],
): boolean {
  if (trigger.triggerState !== undefined && stateId === trigger.triggerState) return true;
  // People type label names as they like: "Agent", "agent" and "AGENT" are one label to them.
  const wanted = trigger.triggerLabel?.toLowerCase();
  return wanted !== undefined && labels.some((l) => typeof l !== 'string' && l.name?.toLowerCase() === wanted);
}

/** The list API's label ids with their names (from the project's labels), for the rule above. */
export function namedLabels(
  labels: readonly PlaneLabel[],
  names: ReadonlyMap<string, string>,
): { readonly id: string; readonly name?: string }[] {
  return labels.map((l) => (typeof l === 'string' ? { id: l, name: names.get(l) } : l));
}

export function planeStateId(state: string | { readonly id: string } | null | undefined): string | undefined {
  return typeof state === 'string' ? state : state?.id;
}
