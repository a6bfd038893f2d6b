// Scale-out (ADR-0021): items per second and agent-slot use against the number of worker
// processes (1, 2, 3), each a host with its own slots, on scripted agents that take a fixed time;
// and the queue wait (schedule-to-start) of a small project's agent runs under another project's
// burst against its wait alone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Client } from '@temporalio/client';
import { buildWorkItemInput } from '../client/work-items';
import { resolveTool } from '../config/paths';
import type { WorkItemInput } from '../domain';
import { startDevServer } from '../temporal/dev-server';
import { createLogger } from '../util/logger';
import { freePort } from '../util/net';
import type { Figure } from './figure';
import { benchConfig } from './item-figure';
import { scaleRouting } from './scale-routing';
import { summarize } from './stats';
import { connectGuarded } from '../temporal/closed-channel-guard';

const SLOTS = 2;

interface Host {
  readonly child: ChildProcess;
  /** Durations of the agent runs it finished. */
  readonly runs: number[];
}

export async function scaleFigures(quick: boolean): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-scale-'));
  const config = benchConfig(dir);
  const server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir: path.join(dir, 'temporal'),
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    logger: createLogger({ write: () => undefined }),
  });
  const connection = await connectGuarded(server.address);
  const client = new Client({ connection });
  let n = 0;
  const start = (queue: string, project: string, fairnessWeight = 1) => {
    n += 1;
    const base = buildWorkItemInput(config, 'bench', { ticket: `BENCH-${n}`, title: `Bench ${n}`, description: '' });
    const input: WorkItemInput = {
      ...base,
      project,
      hosts: scaleRouting(queue),
      priority: { fairnessKey: project, fairnessWeight },
    };
    return client.workflow.start('workItem', { workflowId: `bench-scale-${n}`, taskQueue: queue, args: [input] });
  };
  try {
    // Throughput: a burst of items on 1, 2 and 3 worker processes, as many items per process in
    // each (more hosts are there to take more work), so every run keeps its slots equally busy
    // and lasts about as long: the tail (the last items' sequential stages) weighs the same in
    // each, and the one-process run does not dominate the bench's time. Agents long enough that
    // the queues' round trips are a small part of a run, as they are for real agents (minutes).
    const itemsPerProcess = quick ? 10 : 24;
    const agentMs = quick ? 600 : 800;
    const rows: { processes: number; items: number; itemsPerSecond: number; slotUse: number }[] = [];
    // The figure compares 1 and 3; the full run shows 2 between them.
    for (const processes of quick ? [1, 3] : [1, 2, 3]) {
      const items = itemsPerProcess * processes;
      const queue = `bench-scale-${processes}-${Date.now()}`;
      const hosts = await startHosts(server.address, queue, processes, agentMs);
      const began = Date.now();
      const handles = await Promise.all(Array.from({ length: items }, () => start(queue, 'bench')));
      await Promise.all(handles.map((h) => h.result()));
      const wallMs = Date.now() - began;
      const busyMs = hosts.reduce((sum, h) => sum + h.runs.reduce((a, b) => a + b, 0), 0);
      rows.push({
        processes,
        items,
        itemsPerSecond: items / (wallMs / 1000),
        slotUse: busyMs / (processes * SLOTS * wallMs),
      });
      await stopHosts(hosts);
    }
    const one = rows[0] as (typeof rows)[number];
    const three = rows.at(-1) as (typeof rows)[number];

    // Fairness: a small project's runs wait alone, then behind a 40-item burst of another.
    const fairAgentMs = 400;
    const aloneQueue = `bench-fair-alone-${Date.now()}`;
    const hosts = await startHosts(server.address, aloneQueue, 1, fairAgentMs);
    const alone = await Promise.all(Array.from({ length: 4 }, () => start(aloneQueue, 'small')));
    await Promise.all(alone.map((h) => h.result()));
    const aloneWaits = (await Promise.all(alone.map((h) => poolWaits(client, h.workflowId)))).flat();
    await stopHosts(hosts);
    const underBurst = async (smallWeight: number): Promise<number[]> => {
      const queue = `bench-fair-burst-${smallWeight}-${Date.now()}`;
      const burstHosts = await startHosts(server.address, queue, 1, fairAgentMs);
      const burst = await Promise.all(Array.from({ length: 40 }, () => start(queue, 'big')));
      const small = await Promise.all(Array.from({ length: 4 }, () => start(queue, 'small', smallWeight)));
      await Promise.all(small.map((h) => h.result()));
      const waits = (await Promise.all(small.map((h) => poolWaits(client, h.workflowId)))).flat();
      await Promise.all(burst.map((h) => h.terminate('bench: fairness measured').catch(() => undefined)));
      await stopHosts(burstHosts);
      return waits;
    };
    const burstWaits = await underBurst(1);
    // Its four items want both slots; a fair share is one. Weight 3 gives it three dispatches to
    // the burst's one.
    const weightedWaits = await underBurst(3);

    return [
      {
        name: `scale-out: items/s, 3 worker processes vs 1 (${SLOTS} agent slots each)`,
        unit: 'items/s',
        project: summarize([three.itemsPerSecond]),
        baseline: summarize([one.itemsPerSecond]),
        target: '>= 2.5x',
        met: three.itemsPerSecond >= 2.5 * one.itemsPerSecond,
        notes: `${itemsPerProcess} items per process, agents of ${agentMs} ms; ${rows.map((r) => `${r.processes} process(es), ${r.items} items: ${r.itemsPerSecond.toFixed(2)} items/s, agent slots ${(r.slotUse * 100).toFixed(0)}% used`).join('; ')}`,
      },
      {
        name: "fairness: small project's queue wait p99, 40-item burst vs alone",
        unit: 'ms',
        project: summarize([percentile(burstWaits, 0.99)]),
        baseline: summarize([percentile(aloneWaits, 0.99)]),
        target: '<= 2x',
        met: percentile(burstWaits, 0.99) <= 2 * percentile(aloneWaits, 0.99),
        notes: `schedule-to-start of its agent runs on ${SLOTS} slots: p50 ${percentile(burstWaits, 0.5).toFixed(0)} ms under the burst, ${percentile(aloneWaits, 0.5).toFixed(0)} ms alone (agents of ${fairAgentMs} ms). Its 4 items want both slots; a fair share is one, so each run waits for its 3 siblings (~3 runs) instead of 1 alone`,
      },
      {
        name: "fairness: small project's queue wait p99 with fairnessWeight 3, burst vs alone",
        unit: 'ms',
        project: summarize([percentile(weightedWaits, 0.99)]),
        baseline: summarize([percentile(aloneWaits, 0.99)]),
        target: '<= 2x',
        met: percentile(weightedWaits, 0.99) <= 2 * percentile(aloneWaits, 0.99),
        notes: `p50 ${percentile(weightedWaits, 0.5).toFixed(0)} ms under the burst with weight 3`,
      },
    ];
  } finally {
    await connection.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function startHosts(address: string, queue: string, count: number, agentMs: number): Promise<Host[]> {
  const worker = path.join(__dirname, 'scale-worker.js');
  const hosts = Array.from({ length: count }, (_, i) => {
    const child = spawn(
      process.execPath,
      [worker, address, queue, `bench-host-${i + 1}`, String(SLOTS), String(agentMs)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    return { child, runs: [] as number[] };
  });
  await Promise.all(
    hosts.map(
      (host) =>
        new Promise<void>((resolve, reject) => {
          host.child.once('exit', (code) => reject(new Error(`scale worker exited (${code})`)));
          readline.createInterface({ input: host.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
            if (line === 'ready') resolve();
            else if (line.startsWith('run ')) host.runs.push(Number(line.slice(4)));
          });
        }),
    ),
  );
  return hosts;
}

async function stopHosts(hosts: readonly Host[]): Promise<void> {
  await Promise.all(
    hosts.map((host) => {
      const exited = new Promise((r) => host.child.once('exit', r));
      host.child.stdin?.end();
      return exited;
    }),
  );
}

/**
 * How long each of the item's agent runs waited in the agents pool's queue (schedule to start of
 * the first attempt; of the claim, for items routed as under ADR-0021).
 */
async function poolWaits(client: Client, workflowId: string): Promise<number[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, number>();
  const waits: number[] = [];
  for (const event of events) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
    const attrs = event.activityTaskScheduledEventAttributes;
    if (
      attrs?.taskQueue?.name?.endsWith('-agents') &&
      ['runAgent', 'claimHost'].includes(attrs.activityType?.name ?? '')
    )
      scheduled.set(String(event.eventId), at);
    const started = event.activityTaskStartedEventAttributes;
    const from = started ? scheduled.get(String(started.scheduledEventId)) : undefined;
    if (from !== undefined) waits.push(at - from);
  }
  return waits;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
