// A worker process of its own for the bench's memory figure: its resident memory before and after
// it loads N waiting workflows is measured by the bench from outside, in a fresh process per
// measurement, so garbage of earlier figures (or of the other kind) never counts.
// Protocol: argv = address, task queue, bundle file, max cached workflows; it prints "ready" once
// polling; each line "gc" on stdin runs a full GC in every thread and answers
// "gc done <main thread's heap bytes in use> <workflow threads' heap bytes in use>".
import readline from 'node:readline';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { instantActivities } from './instant-activities';
import { runWithHost, stopOnStdinEnd } from './bench-host';
import { collectGarbageEverywhere } from './collect-garbage';

async function main(): Promise<void> {
  const [address, taskQueue, bundleFile, maxCached] = process.argv.slice(2) as [string, string, string, string];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const activities = instantActivities();
  // Every agent step needs a person: items block at analysis and wait there.
  activities.blockAgents = true;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: bundleFile },
    activities: activities.activities,
    maxCachedWorkflows: Number(maxCached),
  });
  // The items' agent claims come to this process's host (they block there, needing a person).
  const workers = await runWithHost(connection, worker, activities.activities, { id: 'bench-waiting-host', slots: 64 });
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'gc') return;
    collectGarbageEverywhere().then(
      (heaps) => process.stdout.write(`gc done ${heaps.main} ${heaps.threads}\n`),
      (err: unknown) => {
        process.stderr.write(`waiting worker: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
  stopOnStdinEnd(workers);
  await workers.running;
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`waiting worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
