// A host's share of the fleet (ADR-0021, ADR-0023): a worker per pool it serves, whose slots are
// the pool's, taking that pool's work (and claims of items started before ADR-0023), and a worker
// on the host's own queue for agent runs' retries, the runs its claims admitted and the release
// of the item's checkout.
import type { NativeConnection, Worker } from '@temporalio/worker';
import { hostQueueName, type HostPool, type HostRouting, type WorkItemActivities } from '../domain';
import {
  claimSlotSupplier,
  createClaimActivities,
  hostQueueActivities,
  poolQueueActivities,
  type PoolSlots,
} from '../hosts/claims';
import { HostSlots, type SlotUse } from '../hosts/host-slots';
import type { Tracing } from '../telemetry/tracing';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { createWorker } from './create-worker';

export interface HostWorkersOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  /** The main queue's name; the host's own queue is `<main>@<host>`. */
  readonly mainQueue: string;
  readonly routing: HostRouting;
  readonly host: string;
  /** The pools this host serves, with their slot counts. */
  readonly pools: Partial<Record<HostPool, number>>;
  readonly activities: WorkItemActivities;
  readonly identity?: string;
  readonly shutdownGraceTimeMs?: number;
  readonly tracing?: Tracing;
  readonly version?: WorkerDeploymentVersion;
  /** Slot use changed (the metrics gauge). */
  readonly onSlotChange?: (use: SlotUse) => void;
}

export interface HostWorkers {
  readonly workers: Worker[];
  readonly slots: PoolSlots;
  readonly hostQueue: string;
}

/** A hold waits this long past the host queue's own deadline before its slot is freed. */
const HOLD_MARGIN_MS = 30_000;

export async function createHostWorkers(options: HostWorkersOptions): Promise<HostWorkers> {
  const hostQueue = hostQueueName(options.mainQueue, options.host);
  const holdMs = options.routing.hostStartMs + HOLD_MARGIN_MS;
  const slots: PoolSlots = {};
  for (const [pool, capacity] of Object.entries(options.pools) as [HostPool, number][])
    slots[pool] = new HostSlots(pool, capacity, holdMs, options.onSlotChange);
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activitiesOnly: true,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.shutdownGraceTimeMs !== undefined ? { shutdownGraceTimeMs: options.shutdownGraceTimeMs } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(options.version ? { version: options.version } : {}),
  };
  const claims = createClaimActivities(options.host, hostQueue, slots);
  const workers: Worker[] = [];
  for (const [pool, poolSlots] of Object.entries(slots) as [HostPool, HostSlots][]) {
    workers.push(
      await createWorker({
        ...common,
        taskQueue: pool === 'agents' ? options.routing.agentQueue : options.routing.buildQueue,
        activities: { ...claims, ...poolQueueActivities(pool, options.activities, hostQueue, options.host) },
        slots: {
          tuner: {
            activityTaskSlotSupplier: claimSlotSupplier(poolSlots),
            workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
            localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
            nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
          },
        },
      }),
    );
  }
  const admitted = Object.values(slots).reduce((sum, s) => sum + s.capacity, 0);
  workers.push(
    await createWorker({
      ...common,
      taskQueue: hostQueue,
      activities: { ...hostQueueActivities(options.activities, slots) },
      // Admission is the pool queues' job: room for every admitted run, their retries and the
      // workspace releases.
      slots: { maxConcurrentActivityTaskExecutions: admitted * 2 + 4 },
    }),
  );
  return { workers, slots, hostQueue };
}
