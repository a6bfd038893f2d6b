// The merge lease of one repository (workflow id `merge-lease/<project>`): grants the right to
// merge to one work item at a time, in the order they asked. A holder that ends, is cancelled or
// times out without releasing loses the lease, so a repository is never locked forever.
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { pushBounded, type LeaseActivities, type LeaseInput, type LeaseRequest, type LeaseState } from '../domain';
import { whenVersioned } from './versioning';
import { leaseAcquireSignal, leaseGrantedSignal, leaseReleaseSignal, leaseStateQuery } from './lease-messages';

// A repository's lease lives as long as the repository and waits between grants: it follows the
// current build, and its runs stay short (grantsPerRun) so a change in it needs a patch only
// until the runs that started before it have continued as new (ADR-0028).
setWorkflowOptions(whenVersioned('AUTO_UPGRADE'), repositoryLease);

export async function repositoryLease(input: LeaseInput): Promise<void> {
  const state: LeaseState = input.carried ?? { queue: [], grants: 0, expired: [] };
  const { holderRunning } = proxyActivities<LeaseActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 5 },
  });
  const grantsPerRun = input.grantsPerRun ?? 200;
  let grantsThisRun = 0;

  setHandler(leaseStateQuery, () => state);
  setHandler(leaseAcquireSignal, (request) => {
    const known =
      state.holder?.requestId === request.requestId || state.queue.some((r) => r.requestId === request.requestId);
    if (!known) state.queue.push(request);
  });
  setHandler(leaseReleaseSignal, (release) => {
    if (state.holder?.requestId === release.requestId) state.holder = undefined;
    else state.queue = state.queue.filter((r) => r.requestId !== release.requestId);
  });

  for (;;) {
    await condition(() => state.holder === undefined && state.queue.length > 0);
    if (grantsThisRun >= grantsPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof repositoryLease>({ ...input, carried: state });
    }
    const next = state.queue.shift() as LeaseRequest;
    state.holder = { ...next, grantedAt: new Date().toISOString() };
    state.grants += 1;
    grantsThisRun += 1;
    if (!(await tell(next))) {
      expire('its workflow could not be told (it has ended)');
      continue;
    }
    log.info('lease granted', { repository: input.repository, ticket: next.ticket, waiting: state.queue.length });
    await watchHolder(next.requestId);
  }

  /** Waits for the release, checking now and then that the holder still exists. */
  async function watchHolder(requestId: string): Promise<void> {
    const deadline = Date.now() + input.maxHoldMs;
    while (state.holder?.requestId === requestId) {
      const released = await condition(() => state.holder?.requestId !== requestId, input.holderCheckMs);
      if (released) return;
      if (Date.now() >= deadline) {
        expire(`held longer than ${input.maxHoldMs} ms`);
        return;
      }
      if (!(await stillRunning(state.holder.holder))) {
        expire('its workflow is no longer running');
        return;
      }
    }
  }

  /** A check that keeps failing must not end the lease (every waiting item would wait forever). */
  async function stillRunning(holder: string): Promise<boolean> {
    try {
      return await holderRunning(holder);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not check the lease holder; assuming it still runs', {
        holder,
        reason: err instanceof Error ? err.message : String(err),
      });
      return true;
    }
  }

  async function tell(request: LeaseRequest): Promise<boolean> {
    try {
      await getExternalWorkflowHandle(request.holder).signal(leaseGrantedSignal, {
        requestId: request.requestId,
        leaseWorkflowId: workflowInfo().workflowId,
      });
      return true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      return false;
    }
  }

  function expire(why: string): void {
    const holder = state.holder;
    if (!holder) return;
    log.warn('lease taken back', { repository: input.repository, ticket: holder.ticket, why });
    pushBounded(state.expired, { holder: holder.holder, ticket: holder.ticket, why, at: new Date().toISOString() }, 20);
    state.holder = undefined;
  }
}
