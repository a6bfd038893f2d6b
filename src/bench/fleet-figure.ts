// Many items at once, with activities that answer at once: items through the pipeline per
// second (and the worker's and server's CPU per item) against as many bare chains of the same
// steps and gates; and the memory a waiting item holds in the worker and the server against a
// bare waiting workflow.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { buildWorkItemInput } from '../client/work-items';
import { stateQuery } from '../workflows/messages';
import { benchTemporal, type BenchTemporal } from './bench-temporal';
import type { Figure } from './figure';
import { instantActivities } from './instant-activities';
import { benchConfig } from './item-figure';
import { summarize } from './stats';
import type { ChainCall } from './workflows/minimal-chain';
import { readyQuery } from './workflows/waiting';
import { cpuMs, rssBytes } from './proc';

export async function fleetFigures(quick: boolean): Promise<Figure[]> {
  const many = quick ? 60 : 200;
  const waitingCount = quick ? 300 : 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-fleet-'));
  const config = benchConfig(dir);
  const activities = instantActivities();
  const bench = await benchTemporal(path.join(dir, 'temporal'), activities, {
    maxCachedWorkflows: waitingCount * 2 + many * 2 + 100,
  });
  let n = 0;
  const startItem = (client: Client) =>
    client.workflow.start('workItem', {
      workflowId: `bench-fleet-${++n}`,
      taskQueue: bench.queue,
      args: [buildWorkItemInput(config, 'bench', { ticket: `BENCH-${n}`, title: `Bench ${n}`, description: '' })],
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

    // Waiting: bare workflows first, then items blocked at analysis; each loaded in the cache.
    const bareMemory = await memoryOf(bench, async () => {
      const handles = await Promise.all(
        Array.from({ length: waitingCount }, () =>
          bench.client.workflow.start('waiting', { workflowId: `bench-waiting-${++n}`, taskQueue: bench.queue }),
        ),
      );
      for (const h of handles) await h.query(readyQuery);
    });
    activities.blockAgents = true;
    const itemMemory = await memoryOf(bench, async () => {
      const handles = await Promise.all(Array.from({ length: waitingCount }, () => startItem(bench.client)));
      for (const h of handles) {
        while ((await h.query(stateQuery)).status !== 'blocked') await new Promise((r) => setTimeout(r, 20));
      }
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
        name: `worker memory per waiting item (${waitingCount})`,
        unit: 'KiB',
        project: summarize([kib(itemMemory.worker)]),
        baseline: summarize([kib(bareMemory.worker)]),
        target: '<= 1.1x',
        met: itemMemory.worker <= 1.1 * bareMemory.worker,
        notes: `server memory per waiting item: ${kib(itemMemory.server).toFixed(1)} KiB (bare ${kib(bareMemory.server).toFixed(1)} KiB)`,
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

/** Resident memory added to the worker (this process, after a GC when exposed) and the server by `work`. */
async function memoryOf(bench: BenchTemporal, work: () => Promise<void>): Promise<{ worker: number; server: number }> {
  const settle = async () => {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 500));
  };
  await settle();
  const [worker, server] = [process.memoryUsage().rss, rssBytes(bench.server.pid)];
  await work();
  await settle();
  return { worker: process.memoryUsage().rss - worker, server: rssBytes(bench.server.pid) - server };
}
