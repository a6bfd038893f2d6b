// Many items at once, with activities that answer at once: items through the pipeline per
// second (and the worker's and server's CPU per item) against as many bare chains of the same
// steps and gates; and the memory a waiting item holds in a worker process (a fresh one per
// kind, src/bench/waiting-worker.ts) and in the server against a bare waiting workflow.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ServiceError, type Client } from '@temporalio/client';
import { buildWorkItemInput } from '../client/work-items';
import { stateQuery } from '../workflows/messages';
import { benchBundle, benchTemporal, type BenchTemporal } from './bench-temporal';
import type { Figure } from './figure';
import { instantActivities } from './instant-activities';
import { benchConfig } from './item-figure';
import { summarize } from './stats';
import type { ChainCall } from './workflows/minimal-chain';
import { readyQuery } from './workflows/waiting';
import { cpuMs, rssBytes } from './proc';
import { scaleRouting } from './scale-routing';
import { eachConcurrently } from './concurrently';

export async function fleetFigures(quick: boolean): Promise<Figure[]> {
  // Quick: enough to see the figures move; the memory target needs the full run's 1,000.
  const many = quick ? 20 : 200;
  const waitingCount = quick ? 100 : 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-fleet-'));
  const config = benchConfig(dir);
  const activities = instantActivities();
  const bench = await benchTemporal(path.join(dir, 'temporal'), activities, {
    maxCachedWorkflows: many * 2 + 100,
  });
  let n = 0;
  const startItem = (client: Client, taskQueue = bench.queue) =>
    client.workflow.start('workItem', {
      workflowId: `bench-fleet-${++n}`,
      taskQueue,
      args: [
        {
          ...buildWorkItemInput(config, 'bench', { ticket: `BENCH-${n}`, title: `Bench ${n}`, description: '' }),
          // Claimed on the claim queues of the worker that serves `taskQueue`.
          hosts: scaleRouting(taskQueue),
        },
      ],
    });
  try {
    // The chain of one item's steps and gates, for the baseline.
    activities.take();
    await (await startItem(bench.client)).result();
    const chain = activities.take();

    const items = await measured(bench, async () => {
      const handles = await Promise.all(Array.from({ length: many }, () => startItem(bench.client)));
      await Promise.all(handles.map((h) => h.result()));
    });
    const chains = await measured(bench, async () => {
      const handles = await Promise.all(
        Array.from({ length: many }, () =>
          bench.client.workflow.start('minimalChain', {
            workflowId: `bench-fleet-chain-${++n}`,
            taskQueue: bench.queue,
            args: [chain satisfies ChainCall[]],
          }),
        ),
      );
      await Promise.all(handles.map((h) => h.result()));
    });

    // Waiting: bare workflows, then items blocked at analysis, each kind in a fresh worker
    // process of its own, loaded in its cache; that process's memory is what is measured.
    const bundleFile = path.join(dir, 'bench-bundle.js');
    fs.writeFileSync(bundleFile, (await benchBundle()).code);
    const bareMemory = await memoryOf(bench, bundleFile, waitingCount, async (queue, count) => {
      const handles = await Promise.all(
        Array.from({ length: count }, () =>
          bench.client.workflow.start('waiting', { workflowId: `bench-waiting-${++n}`, taskQueue: queue }),
        ),
      );
      await eachConcurrently(handles, LOAD_CONCURRENCY, async (h) => void (await patiently(() => h.query(readyQuery))));
    });
    const itemMemory = await memoryOf(bench, bundleFile, waitingCount, async (queue, count) => {
      const handles = await Promise.all(Array.from({ length: count }, () => startItem(bench.client, queue)));
      await eachConcurrently(handles, LOAD_CONCURRENCY, async (h) => {
        while ((await patiently(() => h.query(stateQuery))).status !== 'blocked')
          await new Promise((r) => setTimeout(r, 20));
      });
    });
    const perSecond = (m: Measured) => many / m.seconds;
    const kib = (bytes: number) => bytes / 1024 / waitingCount;
    return [
      {
        name: `${many} items through the pipeline vs bare chains`,
        unit: '/s',
        project: summarize([perSecond(items)]),
        baseline: summarize([perSecond(chains)]),
        target: 'informational',
        met: true,
        notes:
          `CPU per item: worker ${(items.workerCpuMs / many).toFixed(1)} ms (chain ${(chains.workerCpuMs / many).toFixed(1)}), ` +
          `server ${(items.serverCpuMs / many).toFixed(1)} ms (chain ${(chains.serverCpuMs / many).toFixed(1)})`,
      },
      {
        // Resident memory grows in steps (heaps and allocator arenas, a few MiB each): at a few
        // hundred workflows a step more or less swings the ratio (0.95-1.44x at 200 in one day's
        // runs), so its target applies to the full run's 1,000.
        name: `worker memory per waiting item (${waitingCount})`,
        unit: 'KiB',
        project: summarize([kib(itemMemory.worker)]),
        baseline: summarize([kib(bareMemory.worker)]),
        target: quick ? 'informational' : '<= 1.1x',
        met: quick || itemMemory.worker <= 1.1 * bareMemory.worker,
        notes:
          `V8 heap per waiting item, workflow threads: ${kib(itemMemory.heap.threads).toFixed(1)} KiB (bare ${kib(bareMemory.heap.threads).toFixed(1)} KiB), ` +
          `main thread: ${kib(itemMemory.heap.main).toFixed(1)} KiB (bare ${kib(bareMemory.heap.main).toFixed(1)} KiB); ` +
          `server memory per waiting item: ${kib(itemMemory.server).toFixed(1)} KiB (bare ${kib(bareMemory.server).toFixed(1)} KiB); ` +
          `loading took ${itemMemory.seconds.toFixed(0)} s (bare ${bareMemory.seconds.toFixed(0)} s), the pipeline runs ${items.seconds.toFixed(0)} s (chains ${chains.seconds.toFixed(0)} s)`,
      },
    ];
  } finally {
    await bench.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured {
  readonly seconds: number;
  readonly workerCpuMs: number;
  readonly serverCpuMs: number;
}

async function measured(bench: BenchTemporal, work: () => Promise<void>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const server = cpuMs(bench.server.pid);
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - started) / 1000,
    workerCpuMs: (used.user + used.system) / 1000,
    serverCpuMs: cpuMs(bench.server.pid) - server,
  };
}

/** Queries in flight while waiting for waiting workflows to be loaded. */
const LOAD_CONCURRENCY = 8;

/** Workflows of the kind loaded before the first reading: what the first ones cost once per process. */
const WARM_UP = 30;

/**
 * Resident memory that loading `count` more workflows adds to a worker process (after a full GC
 * in each of its threads, the SDK's workflow threads included) and to the server, and how long the loading took: `load` starts them on that worker's
 * own queue and waits until each is loaded. The first WARM_UP of the kind are loaded before the
 * first reading, so what a kind costs once per process (its code paths compiled, its first
 * contexts) does not count per item, which would make the figure depend on how many items a run
 * loads.
 */
async function memoryOf(
  bench: BenchTemporal,
  bundleFile: string,
  count: number,
  load: (queue: string, count: number) => Promise<void>,
): Promise<{ worker: number; server: number; heap: { main: number; threads: number }; seconds: number }> {
  const queue = `bench-waiting-${process.hrtime.bigint()}`;
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      path.join(__dirname, 'waiting-worker.js'),
      bench.server.address,
      queue,
      bundleFile,
      String((count + WARM_UP) * 2),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = readline.createInterface({ input: child.stdout });
  /** The next line that starts with `expected`: what follows it. */
  const next = (expected: string) =>
    new Promise<string>((resolve, reject) => {
      const onLine = (line: string) => {
        if (line !== expected && !line.startsWith(`${expected} `)) return;
        lines.off('line', onLine);
        resolve(line.slice(expected.length).trim());
      };
      lines.on('line', onLine);
      child.once('exit', (code) => reject(new Error(`the bench's waiting worker exited (${code})`)));
    });
  /**
   * Resident memory after a full GC in every thread of the worker (the worker's and the server's),
   * and the worker's V8 heap in use: the workflow threads' and the main thread's.
   */
  const settled = async () => {
    child.stdin.write('gc\n');
    const [main = NaN, threads = NaN] = (await next('gc done')).split(' ').map(Number);
    await new Promise((r) => setTimeout(r, 500));
    return { worker: rssBytes(child.pid), server: rssBytes(bench.server.pid), heap: { main, threads } };
  };
  try {
    await next('ready');
    await load(queue, WARM_UP);
    const before = await settled();
    const loading = performance.now();
    await load(queue, count);
    const seconds = (performance.now() - loading) / 1000;
    const after = await settled();
    return {
      worker: after.worker - before.worker,
      server: after.server - before.server,
      heap: { main: after.heap.main - before.heap.main, threads: after.heap.threads - before.heap.threads },
      seconds,
    };
  } finally {
    child.stdin.end();
    child.kill('SIGTERM');
  }
}

/** Times a query that timed out or met a busy server is asked again before the bench gives up. */
const QUERY_ATTEMPTS = 5;

/**
 * A query while a thousand workflows load: on a slow machine one can wait past the server's
 * deadline behind the workflow tasks queued before it. Asked again, a bounded number of times.
 */
async function patiently<T>(query: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query();
    } catch (err) {
      if (attempt >= QUERY_ATTEMPTS || !(err instanceof ServiceError)) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
