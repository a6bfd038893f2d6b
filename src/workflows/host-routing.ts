// Host-bound work of a work item (ADR-0021): claim a slot on some host through the pool's claim
// queue (waiting there under the item's priority and fairness keys), then run on that host's own
// queue. A host that takes nothing from its queue within `hostStartMs` is gone: the work is
// recorded as lost and claimed again elsewhere, where it starts from what the origin holds.
import { ActivityFailure, TimeoutFailure, proxyActivities } from '@temporalio/workflow';
import {
  MAX_HOST_MOVES,
  type HostClaim,
  type HostPool,
  type LostRun,
  type HostClaimActivities,
  type WorkItemInput,
  type WorkItemMachine,
} from '../domain';
import { workItemProxies, type WorkItemProxies } from './activity-proxies';

/** A claim is a quick answer once a host takes it; the wait for capacity is in the queue before it. */
const CLAIM_START_TO_CLOSE_MS = 30_000;

export class HostRouter {
  constructor(
    private readonly input: WorkItemInput & { readonly hosts: NonNullable<WorkItemInput['hosts']> },
    private readonly machine: WorkItemMachine,
  ) {}

  /**
   * Runs `work` on a claimed host of `pool`; `what` names it in the item's record. The callback
   * gets the host's proxies, the claim (its slot id goes into the activity's input) and, after a
   * lost host, what the lost run left behind.
   */
  async run<T>(
    pool: HostPool,
    what: string,
    work: (on: WorkItemProxies, claim: HostClaim, lost: LostRun | undefined) => Promise<T>,
  ): Promise<T> {
    let lost: LostRun | undefined;
    for (let moves = 0; ; moves++) {
      const claim = await this.claim(pool);
      this.machine.recordHostQueue(claim.queue);
      const on = workItemProxies(this.input.timeouts, {
        taskQueue: claim.queue,
        scheduleToStartMs: this.input.hosts.hostStartMs,
      });
      try {
        return await work(on, claim, lost);
      } catch (err) {
        const gone = lostWithHost(err, claim.host, this.input.hosts.hostStartMs);
        if (!gone || moves >= MAX_HOST_MOVES) throw err;
        lost = gone;
        this.machine.recordLostRun(what, gone);
      }
    }
  }

  private claim(pool: HostPool): Promise<HostClaim> {
    const { hosts, priority, timeouts, project, ticket } = this.input;
    const { claimHost } = proxyActivities<HostClaimActivities>({
      taskQueue: pool === 'agents' ? hosts.agentQueue : hosts.buildQueue,
      startToCloseTimeout: CLAIM_START_TO_CLOSE_MS,
      retry: { initialInterval: timeouts.retryInitialIntervalMs },
      ...(priority ? { priority } : {}),
    });
    return claimHost({ pool, project, ticket });
  }
}

/**
 * The work's host is gone when a task on its own queue was not taken in time (schedule-to-start
 * cannot be retried). The last heartbeat says what the lost run was doing.
 */
function lostWithHost(err: unknown, host: string, hostStartMs: number): LostRun | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure)) return undefined;
  if (err.cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  const beat = (err.cause.lastHeartbeatDetails ?? {}) as { recentEvents?: unknown; changedFiles?: unknown };
  return {
    host,
    lastEvents: stringList(beat.recentEvents),
    changedFiles: stringList(beat.changedFiles),
    reason: `host ${host} took no task from its queue for ${Math.round(hostStartMs / 1000)} s`,
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 50) : [];
}
