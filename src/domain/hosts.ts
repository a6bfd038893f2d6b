// Where a work item's host-bound work runs (ADR-0021). Agent runs and the build-checkout work
// (merge and image-freshness gates, deploys, the production rollback) first claim a host on a
// shared claim queue, where they wait in Temporal's queue under fairness and priority, then run
// on that host's own queue so that their heartbeats and retries stay where the checkout and the
// agent's session are.

/** The two capacities a host offers; each has its own claim queue and slot count. */
export type HostPool = 'agents' | 'builds';

export interface HostRouting {
  /** The claim queue of agent runs (`ORCH_AGENT_TASK_QUEUE`). */
  readonly agentQueue: string;
  /** The claim queue of build-checkout work (`ORCH_BUILD_TASK_QUEUE`). */
  readonly buildQueue: string;
  /**
   * How long a host's own queue may hold a task before the host counts as gone (schedule-to-start
   * on that queue): the work then moves to another host.
   */
  readonly hostStartMs: number;
}

/** An item's place in the claim queues: Temporal's priority and fairness keys. */
export interface ItemPriority {
  /** 1 (first) to 5 (last); absent: the server's default (3). */
  readonly priorityKey?: number;
  /** The project key: a burst in one project cannot starve another. */
  readonly fairnessKey: string;
  /** The project's share relative to others (projects.yaml `fairnessWeight`, default 1). */
  readonly fairnessWeight?: number;
}

/** What claimHost asks for; the priority travels as the activity's Temporal priority. */
export interface HostClaimRequest {
  readonly pool: HostPool;
  readonly project: string;
  readonly ticket: string;
}

/** A host's promise of one slot, redeemed by the run that is sent to `queue`. */
export interface HostClaim {
  readonly host: string;
  /** The host's own task queue. */
  readonly queue: string;
  /** Binds the run to the slot held for it (it expires if no run comes). */
  readonly slotId: string;
}

/** What a run that was lost with its host left behind, for the attempt that replaces it. */
export interface LostRun {
  readonly host: string;
  /** What the run was doing: its last stream events. */
  readonly lastEvents: readonly string[];
  /** Files it had changed in its checkout (not pushed: gone with the host). */
  readonly changedFiles: readonly string[];
  readonly reason: string;
}

/**
 * What a run taken from a pool's queue failed with, beside its error (ADR-0023): where it ran, so
 * that its retries go to that host's own queue, and its last heartbeat, what it was doing.
 */
export interface PoolRunFailure {
  readonly ranOn: string;
  readonly host: string;
  readonly lastHeartbeat?: unknown;
}

/** Runs of one step moved to another host at most this often before the item blocks. */
export const MAX_HOST_MOVES = 3;

/** The host's own queue: the main task queue's name and the host id (`orchestrator@worker-1`). */
export function hostQueueName(mainQueue: string, host: string): string {
  return `${mainQueue}@${host}`;
}

/** Gates that work in a host's build checkout (the others need no checkout of their own). */
export const HOST_BOUND_GATES: ReadonlySet<string> = new Set(['merge', 'image-freshness']);

/** Priority keys Temporal accepts (1 first, 5 last), from a Plane priority name or a number. */
export function priorityKeyOf(value: string | number | undefined | null): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`priority must be 1 (first) to 5 (last), got ${value}`);
    return n;
  }
  const name = value.toLowerCase();
  if (!Object.hasOwn(PLANE_PRIORITIES, name))
    throw new Error(`unknown priority ${JSON.stringify(value)} (1-5, or ${Object.keys(PLANE_PRIORITIES).join(', ')})`);
  return PLANE_PRIORITIES[name];
}

/** Plane's priority field; `none` is the server's default. */
const PLANE_PRIORITIES: Readonly<Record<string, number | undefined>> = {
  urgent: 1,
  high: 2,
  medium: 3,
  none: undefined,
  low: 4,
};
