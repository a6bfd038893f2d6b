// Host-bound work of a work item. Since ADR-0023 it goes to a pool's queue (`<queue>-agents`,
// `-builds`), where only hosts with a free slot poll, under the item's priority and fairness
// keys. Build work runs there, retries included. An agent run's first attempt runs there; its
// retries follow its checkout and session to the host's own queue. A host that takes nothing
// from its queue within `hostStartMs` is gone: the run is recorded as lost and goes back to the
// pool, where it starts from what the origin holds, in a new session told what the lost run did.
// Items that took their first claim before ADR-0023 keep claiming a slot first (ADR-0021).
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  MAX_HOST_MOVES,
  hostQueueName,
  type HostClaim,
  type HostClaimActivities,
  type HostPool,
  type LostRun,
  type PoolRunFailure,
  type StepResult,
  type WorkItemInput,
  type WorkItemMachine,
} from '../domain';
import { RETRY_NEVER } from './activity-errors';
import { workItemProxies, type WorkItemProxies } from './activity-proxies';
import type { Patched } from './patches';

/** A claim is a quick answer once a host takes it; the wait for capacity is in the queue before it. */
const CLAIM_START_TO_CLOSE_MS = 30_000;

/** Where a run goes, in its activity's input. */
export interface RunPlacement {
  /** The slot its claim holds (items routed under ADR-0021). */
  readonly hostSlot?: string;
  readonly lostRun?: LostRun;
  readonly runSession?: string;
  readonly priorAttempts?: number;
}

type RoutedInput = WorkItemInput & { readonly hosts: NonNullable<WorkItemInput['hosts']> };

export class HostRouter {
  constructor(
    private readonly input: RoutedInput,
    private readonly machine: WorkItemMachine,
    private readonly patched: Patched,
  ) {}

  /** Build-checkout work (`what` names it in the item's record): merge and image gates, deploys, rollback. */
  async runBuild<T>(what: string, work: (on: WorkItemProxies, placement: RunPlacement) => Promise<T>): Promise<T> {
    if (!this.patched('host-pool-queues'))
      return this.runClaimed('builds', what, (on, claim) => work(on, { hostSlot: claim.slotId }));
    return work(this.poolProxies('builds'), {});
  }

  async runAgent(work: (on: WorkItemProxies, placement: RunPlacement) => Promise<StepResult>): Promise<StepResult> {
    if (!this.patched('host-pool-queues'))
      return this.runClaimed('agents', 'runAgent', (on, claim, lostRun) =>
        work(on, { hostSlot: claim.slotId, ...(lostRun ? { lostRun } : {}) }),
      );
    const max = this.input.timeouts.retryMaximumAttempts;
    const spent = (attempts: number) => max > 0 && attempts >= max;
    let lost: LostRun | undefined;
    for (let moves = 0; ; moves++) {
      const run = { runSession: uuid4(), ...(lost ? { lostRun: lost } : {}) };
      // Attempts on the pool's queue until one says which host holds the run.
      let attempts = 0;
      let ranOn: PoolRunFailure | undefined;
      while (!ranOn) {
        if (attempts > 0) await sleep(this.input.timeouts.retryInitialIntervalMs);
        try {
          const result = await work(this.poolProxies('agents', 1), { ...run, priorAttempts: attempts });
          if (result.ranOn) this.machine.recordHostQueue(result.ranOn);
          return result;
        } catch (err) {
          attempts += 1;
          if (isCancellation(err) || neverRetried(err) || spent(attempts)) throw err;
          ranOn = ranOnOf(err);
        }
      }
      this.machine.recordHostQueue(ranOn.ranOn);
      await sleep(this.input.timeouts.retryInitialIntervalMs);
      const onHost = workItemProxies(this.input.timeouts, {
        taskQueue: ranOn.ranOn,
        scheduleToStartMs: this.input.hosts.hostStartMs,
        maximumAttempts: max > 0 ? max - attempts : 0,
      });
      try {
        return await work(onHost, { ...run, priorAttempts: attempts });
      } catch (err) {
        const gone = lostWithHost(err, ranOn.host, this.input.hosts.hostStartMs, ranOn.lastHeartbeat);
        if (!gone || moves >= MAX_HOST_MOVES) throw err;
        lost = gone;
        this.machine.recordLostRun('runAgent', gone);
      }
    }
  }

  private poolProxies(pool: HostPool, maximumAttempts?: number): WorkItemProxies {
    const { hosts, priority, timeouts } = this.input;
    return workItemProxies(timeouts, {
      taskQueue: pool === 'agents' ? hosts.agentQueue : hosts.buildQueue,
      ...(priority ? { priority } : {}),
      ...(maximumAttempts !== undefined ? { maximumAttempts } : {}),
    });
  }

  /** ADR-0021: a claim takes a slot on some host, then the work runs on that host's own queue. */
  private async runClaimed<T>(
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

/** A failure Temporal would not retry: the item blocks on it. */
function neverRetried(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && (cause.nonRetryable || RETRY_NEVER.includes(cause.type ?? ''));
}

/**
 * Which host holds a failed first attempt: the runner says so beside its error; a run that timed
 * out (its host stopped heartbeating) names its host in its last heartbeat. Unknown when it died
 * before its first heartbeat: nothing of it is left anywhere worth going back to.
 */
function ranOnOf(err: unknown): PoolRunFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    const where = cause.details?.[0] as Partial<PoolRunFailure> | undefined;
    if (typeof where?.ranOn === 'string' && typeof where.host === 'string')
      return { ranOn: where.ranOn, host: where.host, lastHeartbeat: where.lastHeartbeat };
  }
  if (cause instanceof TimeoutFailure) {
    const beat = cause.lastHeartbeatDetails as { host?: unknown } | undefined;
    if (typeof beat?.host === 'string')
      return { ranOn: hostQueueName(workflowInfo().taskQueue, beat.host), host: beat.host, lastHeartbeat: beat };
  }
  return undefined;
}

/**
 * The work's host is gone when a task on its own queue was not taken in time (schedule-to-start
 * cannot be retried). The last heartbeat (of this activity, else of the attempt before it on the
 * pool's queue) says what the lost run was doing.
 */
function lostWithHost(err: unknown, host: string, hostStartMs: number, earlierBeat?: unknown): LostRun | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure)) return undefined;
  if (err.cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  const beat = (err.cause.lastHeartbeatDetails ?? earlierBeat ?? {}) as {
    recentEvents?: unknown;
    changedFiles?: unknown;
  };
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
