// The host's side of a pool's queue. Its worker's slot supplier takes a slot of the pool before
// it polls, so only a host with a free slot takes work. What it takes either runs in that slot
// (ADR-0023: an agent run's first attempt, build work) or, for items started under ADR-0021, is a
// claim that turns the slot into a hold, redeemed by the run on the host's own queue.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivitySlotInfo, CustomSlotSupplier } from '@temporalio/worker';
import type {
  HostClaim,
  HostClaimActivities,
  HostPool,
  PoolRunFailure,
  StepInput,
  StepResult,
  WorkItemActivities,
} from '../domain';
import type { HostSlots } from './host-slots';

export type PoolSlots = Partial<Record<HostPool, HostSlots>>;

/** The pool queue's activity slots are the pool's: no free slot, no poll. */
export function claimSlotSupplier(slots: HostSlots): CustomSlotSupplier<ActivitySlotInfo> {
  return {
    type: 'custom',
    async reserveSlot(_ctx, abortSignal) {
      await slots.reserveForPoll(abortSignal);
      return {};
    },
    // Pool queues are not the workflow's queue: no eager tasks; nothing to take here.
    tryReserveSlot: () => null,
    markSlotUsed: (ctx) => {
      // The permit is this reservation's own object: it carries the run's release.
      (ctx.permit as { release?: () => void }).release = slots.runInPollSlot();
    },
    releaseSlot: (ctx) => {
      const release = (ctx.permit as { release?: () => void } | undefined)?.release;
      if (release) release();
      else slots.releasePoll();
    },
  };
}

export function createClaimActivities(host: string, hostQueue: string, slots: PoolSlots): HostClaimActivities {
  return {
    async claimHost(request): Promise<HostClaim> {
      const pool = slots[request.pool];
      // Only a host serving the pool polls its claim queue; anything else is a wiring error.
      if (!pool) throw new Error(`host ${host} does not serve the ${request.pool} pool`);
      return { host, queue: hostQueue, slotId: pool.hold() };
    },
  };
}

type BuildWork = 'deployStaging' | 'deployProduction' | 'rollbackProduction' | 'runGate';

/**
 * What a host serves on a pool's queue (ADR-0023). Build work runs there, retries included: each
 * attempt fetches from the origin, any host will do. An agent run's first attempt runs there too;
 * it reports the host queue it ran on, in its result or beside its error, because its retries must
 * follow its checkout and session to that host.
 */
export function poolQueueActivities(
  pool: HostPool,
  activities: WorkItemActivities,
  hostQueue: string,
  host: string,
): Partial<Pick<WorkItemActivities, BuildWork | 'runAgent'>> {
  if (pool === 'builds') {
    const { deployStaging, deployProduction, rollbackProduction, runGate } = activities;
    return { deployStaging, deployProduction, rollbackProduction, runGate };
  }
  return {
    async runAgent(input: StepInput): Promise<StepResult> {
      const lastHeartbeat = watchHeartbeats();
      try {
        return { ...(await activities.runAgent(input)), ranOn: hostQueue };
      } catch (err) {
        throw withRanOn(err, { ranOn: hostQueue, host, lastHeartbeat: lastHeartbeat() });
      }
    },
  };
}

/** Remembers the details of the activity's latest heartbeat (the SDK does not say them back). */
function watchHeartbeats(): () => unknown {
  const ctx = Context.current();
  const send = ctx.heartbeat;
  let last: unknown;
  (ctx as { heartbeat: (details?: unknown) => void }).heartbeat = (details?: unknown) => {
    last = details;
    send(details);
  };
  return () => last;
}

/**
 * The failure the workflow sees: the same type and message (what a block says, whether Temporal
 * would retry it), with where it ran. A cancellation the workflow asked for stays one.
 */
function withRanOn(err: unknown, where: PoolRunFailure): unknown {
  if (err instanceof CancelledFailure && Context.current().cancellationDetails?.cancelRequested) return err;
  const failure = err instanceof ApplicationFailure ? err : undefined;
  return ApplicationFailure.create({
    message: err instanceof Error ? err.message : String(err),
    type: failure?.type ?? (err instanceof Error ? err.name : 'Error'),
    nonRetryable: failure?.nonRetryable ?? false,
    details: [where, ...(failure?.details ?? [])],
    ...(err instanceof Error ? { cause: err } : {}),
  });
}

type HostBoundName = 'runAgent' | 'deployStaging' | 'deployProduction' | 'rollbackProduction' | 'runGate';

/** Which pool each activity on the host's own queue counts against. */
const POOL_OF: Record<HostBoundName, HostPool> = {
  runAgent: 'agents',
  deployStaging: 'builds',
  deployProduction: 'builds',
  rollbackProduction: 'builds',
  runGate: 'builds',
};

/**
 * The activities of the host's own queue: the host-bound ones, each counted against its pool
 * while it runs, and the workspace release (the item's checkout on this host).
 */
export function hostQueueActivities(
  activities: WorkItemActivities,
  slots: PoolSlots,
): Pick<WorkItemActivities, HostBoundName | 'releaseWorkspace'> {
  const bound = <N extends HostBoundName>(name: N): WorkItemActivities[N] => {
    const run = activities[name] as (input: { hostSlot?: string }) => Promise<unknown>;
    return (async (input: { hostSlot?: string }) => {
      const release = slots[POOL_OF[name]]?.startRun(input.hostSlot);
      try {
        return await run(input);
      } finally {
        release?.();
      }
    }) as WorkItemActivities[N];
  };
  return {
    runAgent: bound('runAgent'),
    deployStaging: bound('deployStaging'),
    deployProduction: bound('deployProduction'),
    rollbackProduction: bound('rollbackProduction'),
    runGate: bound('runGate'),
    releaseWorkspace: activities.releaseWorkspace,
  };
}
