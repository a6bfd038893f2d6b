// Runs work-item workflows on the real dev server with scripted activities.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { resolveTool } from '../../src/config/paths';
import { Worker } from '@temporalio/worker';
import { createHostWorkers } from '../../src/worker/host-workers';
import { UNTRACED_SINKS } from '../../src/worker/workflow-bundle';
import {
  DEFAULT_LIMITS,
  type HostRouting,
  workItemWorkflowId,
  type WorkItemActivities,
  type WorkItemEvent,
  type WorkItemInput,
  type WorkItemState,
} from '../../src/domain';
import { eventSignal, stateQuery } from '../../src/workflows/messages';
import type { workItem } from '../../src/workflows/work-item';

export type WorkItemHandle = WorkflowHandle<typeof workItem>;
import { workflowBundle } from './temporal';

export const FAST_TIMEOUTS: WorkItemInput['timeouts'] = {
  agentMs: 20_000,
  gateMs: 20_000,
  deployMs: 20_000,
  heartbeatMs: 2_000,
  retryInitialIntervalMs: 10,
  retryMaximumAttempts: 2,
};

export function testInput(overrides: Partial<WorkItemInput> = {}): WorkItemInput {
  return {
    project: 'shop',
    ticket: `SHOP-${uniqueTicketNumber()}`,
    title: 'Apply coupon codes',
    description: 'Customers can enter a coupon code at checkout.',
    budgetUsd: 10,
    limits: { ...DEFAULT_LIMITS },
    timeouts: FAST_TIMEOUTS,
    ...overrides,
  };
}

export const taskQueue = (name: string): string => `test-${name}-${process.pid}`;

/**
 * A ticket number no other test uses, also when files run in parallel against one shared server:
 * the process and a counter in a file of that process (module state and the environment start
 * afresh in each test file one jest worker runs). At most 9 digits, as ticket ids allow.
 */
export function uniqueTicketNumber(): string {
  const file = path.join(os.tmpdir(), `orch-test-tickets-${process.pid}`);
  const next = (Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '0') || 0) + 1;
  fs.writeFileSync(file, String(next));
  return `1${String(process.pid % 1000).padStart(3, '0')}${String(next % 100_000).padStart(5, '0')}`;
}

export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  queue: string,
  activities: WorkItemActivities,
  fn: () => Promise<T>,
): Promise<T> {
  const workers = await startWorkers(env, queue, activities);
  try {
    return await fn();
  } finally {
    await workers.stop();
  }
}

/**
 * A worker process's set, in this process: the main queue's worker and one host's claim and host
 * queue workers (ADR-0021), with the claim queues named as `hostRouting` names them for `queue`.
 * Items started with host routing (through the API, the CLI) need them; the others ignore them.
 */
export async function startWorkers(
  env: TestWorkflowEnvironment,
  queue: string,
  activities: WorkItemActivities,
  options: { readonly agentSlots?: number; readonly host?: string } = {},
): Promise<{ readonly done: Promise<void>; stop(): Promise<void> }> {
  const main = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: workflowBundle(),
    // The prebuilt bundle (test:production) carries the tracing interceptors and their sink.
    sinks: UNTRACED_SINKS,
    activities,
  });
  const hosts = await createHostWorkers({
    connection: env.nativeConnection,
    namespace: 'default',
    mainQueue: queue,
    routing: testRouting(queue),
    host: options.host ?? `test-host-${process.pid}`,
    pools: { agents: options.agentSlots ?? 4, builds: 4 },
    activities,
    shutdownGraceTimeMs: 0,
  });
  const all = [main, ...hosts.workers];
  const done = Promise.all(all.map((w) => w.run())).then(() => undefined);
  return {
    done,
    async stop() {
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

/** The claim queues `hostRouting` gives a worker whose ORCH_TASK_QUEUE is `queue`. */
export function testRouting(queue: string, hostStartMs = 60_000): HostRouting {
  return { agentQueue: `${queue}-agents`, buildQueue: `${queue}-builds`, hostStartMs };
}

export async function startItem(
  env: Pick<TestWorkflowEnvironment, 'client'>,
  queue: string,
  input: WorkItemInput,
): Promise<WorkItemHandle> {
  return env.client.workflow.signalWithStart<typeof workItem, [WorkItemEvent]>('workItem', {
    workflowId: workItemWorkflowId(input.project, input.ticket),
    taskQueue: queue,
    args: [input],
    signal: eventSignal,
    signalArgs: [{ key: `created-${input.ticket}`, source: 'cli', type: 'ticket.created' }],
  });
}

/** Polls the state query until `predicate` holds (the workflow runs on the real server). */
export async function waitForState(
  handle: WorkflowHandle,
  predicate: (s: WorkItemState) => boolean,
  timeoutMs = 20_000,
): Promise<WorkItemState> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkItemState | undefined;
  for (;;) {
    try {
      last = await handle.query(stateQuery);
      if (predicate(last)) return last;
    } catch (err) {
      // A query can race a continue-as-new; ask again.
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `state not reached in ${timeoutMs} ms; last: stage=${last?.stage} status=${last?.status} blocked=${last?.blocked?.reason}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const HISTORIES_DIR = path.resolve(__dirname, '../histories');

/**
 * With RECORD_HISTORIES=1, saves the workflow's history as test/histories/<name>.json for the
 * replay test. Histories are committed: they are what running workflows look like today.
 * The `temporal` CLI writes them (the same JSON an operator gets from `temporal workflow show`).
 */
export async function recordHistory(
  env: TestWorkflowEnvironment,
  handle: WorkflowHandle,
  name: string,
  runId?: string,
): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const run = runId ? ['--run-id', runId] : [];
  const json = execFileSync(
    resolveTool('temporal'),
    ['workflow', 'show', '--workflow-id', handle.workflowId, ...run, '--address', env.address, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), json);
}

/** Past the gates into deploy-staging (it may already be further: the test doubles deploy at once), or blocked. */
export function stagingOrBlocked(s: WorkItemState): boolean {
  return reachedStaging(s) || s.status === 'blocked';
}

/** The item entered deploy-staging at some point: every gate before it passed. */
export function reachedStaging(s: WorkItemState): boolean {
  return s.history.some((h) => h.stage === 'deploy-staging');
}
