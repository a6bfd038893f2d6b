// The work item's patch ids, and the one marker that stands for all of them in a run that starts
// on code that has them (ADR-0032). The SDK writes two events for each id a run asks for the first
// time (the marker, and an upsert of TemporalChangeVersion), and the worker holds them for as long
// as the item is cached: a finished item asks 5 or 6 ids (10 or 12 events), one that waits for a
// person at analysis 3 (6 of its 18 events). A run that starts on this code asks FOLD_MARKER first and nothing
// else: every id folded into it is on for the whole run, as patched() would have answered there.
// A history recorded before the fold (or by a build without it) has no FOLD_MARKER at its start:
// patched(FOLD_MARKER) is false on its replay, each id is asked where it always was, and it
// replays as before.
import { patched } from '@temporalio/workflow';

/** Every patch id the work item knew at the fold. */
export const FOLDED_PATCHES = [
  'tracker-sync',
  'tracker-gate-notices',
  'merge-lease',
  'agent-budget',
  'workspace-release',
  'tracker-courier',
  'coalesced-publish',
  'production-rollback',
  'agent-run-incidents',
  'lease-wait-timer',
  'host-pool-queues',
  'human-review',
  'upgrade-continue-as-new',
  'untracked-keeps-no-notices',
] as const;

/**
 * Its marker. A later patch is asked by its own id (it is not in FOLDED_PATCHES) until a second
 * fold, whose marker is asked before this one: a run that holds the second holds every id of both.
 */
export const FOLD_MARKER = 'patches-folded-1';

/** Patch ids added after the fold: asked one by one, each with its own marker. */
export const PATCHES_SINCE_FOLD = [] as const;

export type WorkItemPatch = (typeof FOLDED_PATCHES)[number] | (typeof PATCHES_SINCE_FOLD)[number];

/** patched() for the work item's ids, answered once per run for the folded ones. */
export type Patched = (id: WorkItemPatch) => boolean;

/**
 * Asked once, first thing in each run of the work item (the answer must not change within a run:
 * a second patched(FOLD_MARKER) later in an old history's run would record the marker mid-run).
 */
export function workItemPatches(): Patched {
  if (!patched(FOLD_MARKER)) return patched;
  const folded: ReadonlySet<string> = new Set(FOLDED_PATCHES);
  return (id) => folded.has(id) || patched(id);
}
