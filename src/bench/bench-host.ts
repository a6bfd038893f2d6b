// The worker set of a bench process: its main worker and one host's claim and host-queue workers
// (ADR-0021), with claim queues named after the main queue, run until stopped; and the child
// processes' shutdown protocol (stdin's end).
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkItemActivities } from '../domain';
import { createHostWorkers } from '../worker/host-workers';
import { scaleRouting } from './scale-routing';

export interface BenchWorkers {
  readonly running: Promise<void>;
  stop(): void;
}

export async function runWithHost(
  connection: NativeConnection,
  main: Worker,
  activities: WorkItemActivities,
  host: { readonly id: string; readonly slots: number },
): Promise<BenchWorkers> {
  const fleet = await createHostWorkers({
    connection,
    namespace: 'default',
    mainQueue: main.options.taskQueue,
    routing: scaleRouting(main.options.taskQueue),
    host: host.id,
    pools: { agents: host.slots, builds: host.slots },
    activities,
  });
  const workers = [main, ...fleet.workers];
  const running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  return {
    running,
    stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/** A bench child process: says "ready", and stops its workers when its stdin ends. */
export function stopOnStdinEnd(workers: BenchWorkers): void {
  process.stdin.resume();
  process.stdin.on('end', () => workers.stop());
  process.stdout.write('ready\n');
}
