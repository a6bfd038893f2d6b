// One work item from created to done, with activities that answer at once, against the bare
// chain of the same step and gate activities (src/bench/workflows/minimal-chain.ts): wall time
// and history events. The difference is what the item costs beyond its work: tracker notices,
// the lease request, workspace release, search attributes, state. Also the same item on a dev
// server with Temporal's default dispatch settings, to show what ONE_MACHINE_DISPATCH buys.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { buildWorkItemInput } from '../client/work-items';
import { loadConfig } from '../config';
import { benchTemporal, type BenchTemporal as Bench } from './bench-temporal';
import { compared, type Figure } from './figure';
import { instantActivities } from './instant-activities';
import { compare, interleaved, summarize } from './stats';
import type { ChainCall } from './workflows/minimal-chain';

export async function itemFigures(rounds: number, quick = false): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-item-'));
  const config = benchConfig(dir);
  const activities = instantActivities();
  const fast = await benchTemporal(path.join(dir, 'fast'), activities);
  const slow = await benchTemporal(path.join(dir, 'default'), activities, { oneMachineDispatch: false });
  let n = 0;
  try {
    let lastCounts = new Map<string, number>();
    const item = (bench: Bench) => async (): Promise<{ ms: number; events: number; chain: ChainCall[] }> => {
      activities.take();
      const ticket = `BENCH-${++n}`;
      const started = performance.now();
      const handle = await bench.client.workflow.start('workItem', {
        workflowId: `bench-item-${n}`,
        taskQueue: bench.queue,
        args: [buildWorkItemInput(config, 'bench', { ticket, title: `Bench ${n}`, description: '' })],
      });
      const state = (await handle.result()) as { status: string };
      const ms = performance.now() - started;
      if (state.status !== 'done') throw new Error(`bench item ended ${state.status}`);
      lastCounts = new Map(activities.counts);
      return { ms, events: await historyLength(bench.client, handle.workflowId), chain: activities.take() };
    };
    // The chain replays the steps and gates of the item just before it.
    let lastChain: ChainCall[] = (await item(fast)()).chain;
    const chain = async (): Promise<{ ms: number; events: number; chain: ChainCall[] }> => {
      const started = performance.now();
      const handle = await fast.client.workflow.start('minimalChain', {
        workflowId: `bench-chain-${++n}`,
        taskQueue: fast.queue,
        args: [lastChain],
      });
      await handle.result();
      return {
        ms: performance.now() - started,
        events: await historyLength(fast.client, handle.workflowId),
        chain: [],
      };
    };
    const itemFast = item(fast);
    const runs = await interleaved(
      rounds,
      async () => {
        const r = await itemFast();
        lastChain = r.chain;
        return r;
      },
      chain,
    );
    // Default dispatch is 2-3x slower: in a quick run 3 rounds show it as clearly.
    const slowRuns = await interleaved(quick ? 3 : rounds, item(fast), item(slow));
    const dispatch = compare(
      slowRuns.a.map((r) => r.ms),
      slowRuns.b.map((r) => r.ms),
    );
    const all = [...lastCounts.values()].reduce((a, b) => a + b, 0);
    const counts = `${all} activities (${[...lastCounts].map(([k, v]) => `${v} ${k}`).join(', ')}) where its steps and gates are ${lastChain.length}`;
    const wall = compare(
      runs.a.map((r) => r.ms),
      runs.b.map((r) => r.ms),
    );
    const events = {
      project: summarize(runs.a.map((r) => r.events)),
      baseline: summarize(runs.b.map((r) => r.events)),
    };
    return [
      {
        name: 'item wall time vs minimal chain',
        unit: 'ms',
        ...compared(wall),
        target: '<= 1.2x',
        met: wall.paired.median <= 1.2,
        notes: `the item ran ${counts}`,
      },
      {
        name: 'item history events vs minimal chain',
        unit: 'events',
        ...events,
        target: '<= 1.3x',
        met: events.project.median <= 1.3 * events.baseline.median,
      },
      {
        name: 'item wall time, one-machine vs default dispatch',
        unit: 'ms',
        ...compared(dispatch),
        target: 'faster',
        met: dispatch.paired.median < 1,
        notes: 'baseline: the same item on a dev server with Temporal default dispatch settings',
      },
    ];
  } finally {
    await fast.stop();
    await slow.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One project without trackers, as the bench's items need: its notices cost nothing. */
export function benchConfig(dir: string) {
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    'projects:\n  bench:\n    ticketPrefix: BENCH\n    repository: /nonexistent\n',
  );
  // The queue benchTemporal's worker serves: items' claim queues are named after it.
  return loadConfig(
    { ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'), ORCH_DATA_DIR: dir, ORCH_TASK_QUEUE: 'bench-item' },
    dir,
  );
}

async function historyLength(client: Client, workflowId: string): Promise<number> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;
}
