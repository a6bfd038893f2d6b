// A worker SIGKILLed while its item holds the repository's merge lease (its merge gate is running
// the project's tests) does not leave the repository locked: the item's workflow still runs, its
// merge activity times out on heartbeats and is retried by the next worker, the merge finishes
// and the lease goes to the item waiting behind it. Real worker processes (dist/), real git.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { leaseWorkflowId } from '../../src/activities/lease';
import { STAGE_GRAPH, itemBranch, type LeaseState, type WorkItemInput } from '../../src/domain';
import { initialState } from '../../src/workflows/initial-state';
import { leaseStateQuery } from '../../src/workflows/lease-messages';
import { createRepo } from '../support/git-fixtures';
import { killStray, pidsWithArg, spawnLogged, type Spawned } from '../support/processes';
import { startTemporal } from '../support/temporal';
import {
  startItem,
  taskQueue,
  testInput,
  waitForState,
  reachedStaging,
  stagingOrBlocked,
} from '../support/work-item-harness';

jest.setTimeout(180_000);

const WORKER = path.resolve(__dirname, '../../dist/worker/main.js');

let env: TestWorkflowEnvironment;
const workers: Spawned[] = [];
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await env?.teardown();
});

/** An item that starts at the merge gate (its earlier stages are not what this test is about). */
function atMergeGate(input: WorkItemInput): WorkItemInput {
  const start = initialState(input, new Date().toISOString());
  return {
    ...input,
    carried: {
      ...start,
      stage: 'testing',
      history: [{ stage: 'testing', enteredAt: new Date().toISOString() }],
      resume: { phase: 'gates', fromGate: STAGE_GRAPH.testing.gates.indexOf('merge') },
    },
  };
}

test('a worker killed while its item holds the merge lease does not lock the repository', async () => {
  const repo = createRepo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lease-crash-'));
  // The project's tests hang on the branch carrying HOLD until the test releases them: the merge
  // gate holds the lease meanwhile. They run sandboxed, so the release is a file in a folder the
  // project lets them read (agents.sandbox.readOnlyPaths), and the test finds the hanging process
  // by its unusual argument.
  const latch = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lease-latch-'));
  const held = `600.${process.pid % 1000}${Date.now() % 1000}`;
  const testCommand = `if [ -f HOLD ] && [ ! -f ${latch}/released ]; then sleep ${held}; fi`;
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    commands:\n      test: ${JSON.stringify(testCommand)}\n    agents:\n      sandbox:\n        readOnlyPaths: [${JSON.stringify(latch)}]\n`,
  );
  const queue = taskQueue('lease-crash');
  const workerEnv = {
    PATH: process.env.PATH,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_DATA_DIR: path.join(dir, 'data'),
    TEMPORAL_ADDRESS: env.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_MERGE_LEASE_CHECK_MS: '300',
    ORCH_LOG_LEVEL: 'info',
  };
  const [a, b] = [testInput({ title: 'Holder' }), testInput({ title: 'Next in line' })];
  repo.commit(
    itemBranch(a.ticket, a.title),
    { HOLD: 'x\n', 'src/a.js': 'exports.a = 1;\n' },
    `feat(${a.ticket}): holder`,
  );
  repo.commit(itemBranch(b.ticket, b.title), { 'src/b.js': 'exports.b = 1;\n' }, `feat(${b.ticket}): next`);
  const lease = env.client.workflow.getHandle(leaseWorkflowId(repo.origin));

  const first = spawnLogged(process.execPath, [WORKER], workerEnv);
  workers.push(first);
  await first.waitFor(/worker polling/, 60_000);
  const handleA = await startItem(env, queue, atMergeGate(a));
  await waitUntil(() => pidsWithArg(held).length > 0, 60_000, 'the holder to run its tests');
  const handleB = await startItem(env, queue, atMergeGate(b));
  await waitUntil(
    async () => {
      const state: LeaseState = await lease.query(leaseStateQuery);
      return state.holder?.ticket === a.ticket && state.queue.some((r) => r.ticket === b.ticket);
    },
    30_000,
    'B to queue behind A',
  );

  first.child.kill('SIGKILL');
  await first.exited();
  fs.writeFileSync(path.join(latch, 'released'), 'the retried merge may run its tests\n');
  // What the killed worker's command left behind (its own process group) is a stray process, not a lock.
  for (const pid of pidsWithArg(held)) killStray(pid);

  const second = spawnLogged(process.execPath, [WORKER], workerEnv);
  workers.push(second);
  const states = await Promise.all([handleA, handleB].map((h) => waitForState(h, stagingOrBlocked, 90_000)));
  expect(states.map(reachedStaging)).toEqual([true, true]);
  const finalLease: LeaseState = await lease.query(leaseStateQuery);
  // A released the lease itself after its retried merge; nothing had to be taken back.
  expect(finalLease).toMatchObject({ queue: [], grants: 2, expired: [] });
  expect(finalLease.holder).toBeUndefined();
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('log', '--first-parent', '--format=%s', 'origin/main').trim().split('\n').slice(0, 2)).toEqual([
    `Merge ${itemBranch(b.ticket, b.title)} (${b.ticket})`,
    `Merge ${itemBranch(a.ticket, a.title)} (${a.ticket})`,
  ]);
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
