// The host's side of a claim (ADR-0021): the claim worker's slot supplier takes a slot of the
// pool before it polls, the claim turns it into a hold for the run, and the run on the host's own
// queue redeems the hold when it starts and gives the slot back when it ends.
import type { ActivitySlotInfo, CustomSlotSupplier } from '@temporalio/worker';
import type { HostClaim, HostClaimActivities, HostPool, WorkItemActivities } from '../domain';
import type { HostSlots } from './host-slots';

export type PoolSlots = Partial<Record<HostPool, HostSlots>>;

/** The claim queue's activity slots are the pool's: no free slot, no poll. */
export function claimSlotSupplier(slots: HostSlots): CustomSlotSupplier<ActivitySlotInfo> {
  return {
    type: 'custom',
    async reserveSlot(_ctx, abortSignal) {
      await slots.reserveForPoll(abortSignal);
      return {};
    },
    // Claims are never eager (they are not on the workflow's queue); nothing to take here.
    tryReserveSlot: () => null,
    markSlotUsed: () => undefined,
    releaseSlot: () => slots.releasePoll(),
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
