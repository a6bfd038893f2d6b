// One worker host of the bench's scale-out figure, as a process of its own: the main queue's
// worker with the built workflow bundle and one host's claim and host-queue workers, with
// scripted agents that answer after a fixed time (an agent's work is mostly waiting on the model)
// and instant gates and deploys.
// Protocol: argv = address, main task queue, host id, agent slots, agent milliseconds; it prints
// "ready" once polling, then one line per agent run, "run <ms>" (its duration), and stops on
// stdin's end.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkItemActivities } from '../domain';
import { UNTRACED_SINKS, prebuiltBundle } from '../worker/workflow-bundle';
import { instantActivities } from './instant-activities';
import { runWithHost, stopOnStdinEnd } from './bench-host';

async function main(): Promise<void> {
  const [address, queue, host, slots, agentMs] = process.argv.slice(2) as [string, string, string, string, string];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const bundle = prebuiltBundle();
  if (!bundle) throw new Error('no dist/workflow-bundle.js: npm run build');
  const instant = instantActivities().activities;
  const activities: WorkItemActivities = {
    ...instant,
    runAgent: async (input) => {
      const started = Date.now();
      await new Promise((r) => setTimeout(r, Number(agentMs)));
      const result = await instant.runAgent(input);
      process.stdout.write(`run ${Date.now() - started}\n`);
      return result;
    },
  };
  const connection = await NativeConnection.connect({ address });
  const main = await Worker.create({
    connection,
    taskQueue: queue,
    workflowBundle: bundle,
    activities,
    sinks: UNTRACED_SINKS,
  });
  const workers = await runWithHost(connection, main, activities, { id: host, slots: Number(slots) });
  stopOnStdinEnd(workers);
  await workers.running;
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`scale worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
