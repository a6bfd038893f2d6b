// `orch versions` on the dev server (ADR-0028): the deployment's builds, current and ramping, open
// items per build, and the release's replay gate, which passes today's workflow code and refuses
// one with an unpatched change, naming the items it would break.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { UNTRACED_SINKS } from '../../src/worker/workflow-bundle';
import { scriptedActivities } from '../support/doubles';
import { TEST_PROJECTS_YAML } from '../support/config';
import { runOrch } from '../support/run-orch';
import { startTemporal, workflowBundle } from '../support/temporal';
import { stateQuery } from '../../src/workflows/messages';
import { FOLD_MARKER } from '../../src/workflows/patches';
import {
  recordHistory,
  startItem,
  taskQueue,
  testInput,
  uniqueTicketNumber,
  waitForState,
} from '../support/work-item-harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
const queue = taskQueue('versions');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-versions-'));
const projectsFile = path.join(dir, 'projects.yaml');
const workers: Worker[] = [];
let running: Promise<unknown>[] = [];

beforeAll(async () => {
  env = await startTemporal();
  fs.writeFileSync(projectsFile, TEST_PROJECTS_YAML);
});
afterAll(async () => {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.allSettled(running);
});

const orch = (...argv: string[]) =>
  runOrch(argv, {
    TEMPORAL_ADDRESS: env.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_PROJECTS_FILE: projectsFile,
    ORCH_DATA_DIR: dir,
    USER: 'release-tester',
  });

async function versionedWorker(buildId: string): Promise<void> {
  // Every gate fails and the project allows no retries: the item blocks and stays open.
  const { activities } = scriptedActivities({ gate: (g) => ({ gate: g.gate, verdict: 'FAIL', findings: ['no'] }) });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: workflowBundle(),
    sinks: UNTRACED_SINKS,
    activities,
    shutdownGraceTime: 0,
    workerDeploymentOptions: {
      version: { deploymentName: queue, buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    },
  });
  workers.push(worker);
  running = [...running, worker.run()];
}

test('wrong words are refused before anything is asked of the server', async () => {
  expect(await orch('versions', 'ramp', 'b2', '0')).toMatchObject({
    code: 2,
    err: expect.stringContaining('a percentage above 0 and at most 100'),
  });
  expect(await orch('versions', 'set-current', 'a.b')).toMatchObject({
    code: 2,
    err: expect.stringContaining('which build?'),
  });
  expect(await orch('versions', 'promote')).toMatchObject({ code: 2, err: expect.stringContaining('unknown action') });
  expect(await orch('versions')).toMatchObject({
    code: 0,
    out: `${queue}: no versioned worker has polled yet (ORCH_WORKER_VERSIONING=off, or no worker started)`,
  });
});

test('builds, the current one and a ramp, open items per build, and the replay gate both ways', async () => {
  await versionedWorker('b1');
  await versionedWorker('b2');
  // The server registers a version once its worker polls.
  const deadline = Date.now() + 30_000;
  while (!/b1 .*\n.*b2 |b2 .*\n.*b1 /.test((await orch('versions')).out)) {
    if (Date.now() > deadline) throw new Error(`the builds did not register:\n${(await orch('versions')).out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(await orch('versions', 'set-current', 'b1')).toMatchObject({ code: 0, out: `${queue}: b1 is current` });

  const item = testInput({ project: 'visibility', ticket: `VIS-${uniqueTicketNumber()}` });
  const handle = await startItem(env, queue, item);
  await waitForState(handle, (s) => s.status === 'blocked');
  const versioning = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  expect(versioning?.deploymentVersion?.buildId).toBe('b1');
  expect(versioning?.behavior).toBe(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE);

  expect(await orch('versions', 'ramp', 'b2', '25')).toMatchObject({ code: 0 });
  const shown = await orch('versions');
  expect(shown.out).toMatch(new RegExp(`^deployment ${queue}\ncurrent {3}b1\nramping {3}b2 at 25%\n`));
  expect(shown.out).toMatch(/^ {2}b1 {2}current {2}1 open items/m);
  expect(shown.out).toMatch(/^ {2}b2 {2}ramping {2}0 open items/m);
  expect(JSON.parse((await orch('versions', '--json')).out)).toMatchObject({
    current: 'b1',
    ramping: { buildId: 'b2', percentage: 25 },
  });
  expect(await orch('versions', 'ramp', 'off')).toMatchObject({ code: 0, out: `${queue}: no ramp` });
  expect((await orch('versions')).out).toContain('ramping   (none)');

  // The release gate: today's bundle replays the open item; an unpatched reordering does not.
  const passed = await orch('versions', 'check-replay');
  expect(passed).toMatchObject({ code: 0, out: expect.stringMatching(/^replayed \d+ open workflows .*: all replay$/) });
  const bad = path.join(dir, 'incompatible-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../fixtures/incompatible-workflow/index.ts'),
    logger: new DefaultLogger('ERROR'),
  });
  fs.writeFileSync(bad, code);
  const refused = await orch('versions', 'check-replay', '--bundle', bad);
  expect(refused.code).toBe(1);
  expect(refused.err).toMatch(/would fail on this build/);
  expect(refused.err).toContain(handle.workflowId);

  // Before the old build's workers stop, what is pinned to it must end: the catch-up job's runs.
  expect(await orch('versions', 'current')).toMatchObject({ code: 0, out: 'b1' });
  const pinned = await env.client.workflow.start('reconcileTracker', {
    taskQueue: queue,
    workflowId: `${queue}-catch-up`,
    // No worker here serves its activity: the run stays open, pinned to b1.
    args: [{ timeoutMs: 60_000, heartbeatMs: 10_000 }],
  });
  const deadlinePinned = Date.now() + 30_000;
  let drain = await orch('versions', 'drain', 'b1', '0');
  while (drain.code === 0) {
    if (Date.now() > deadlinePinned) throw new Error('the pinned run never showed on b1');
    await new Promise((r) => setTimeout(r, 250));
    drain = await orch('versions', 'drain', 'b1', '0');
  }
  expect(drain).toMatchObject({ code: 1, err: expect.stringContaining('1 pinned workflows still run on b1') });
  await pinned.terminate('test over');
  expect(await orch('versions', 'drain', 'b1', '20')).toMatchObject({
    code: 0,
    out: `${queue}: nothing pinned runs on b1`,
  });
  expect(await orch('versions', 'drain', 'b1', 'soon')).toMatchObject({ code: 2 });

  // An upgrade: b2 becomes current; at its next task the blocked item moves to b2 and, between
  // two steps, starts a fresh run there (ADR-0028).
  const firstRun = (await handle.describe()).runId;
  expect(await orch('versions', 'set-current', 'b2')).toMatchObject({ code: 0 });
  expect(await orch('retry', item.ticket, '--reason', 'after the upgrade')).toMatchObject({ code: 0 });
  const upgraded = env.client.workflow.getHandle(handle.workflowId);
  const deadlineMoved = Date.now() + 30_000;
  while ((await upgraded.describe()).runId === firstRun) {
    if (Date.now() > deadlineMoved) throw new Error('the item did not continue as new on b2');
    await new Promise((r) => setTimeout(r, 250));
  }
  await waitForState(upgraded, (s) => s.status === 'blocked');
  const first = await env.client.workflow.getHandle(handle.workflowId, firstRun).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  const markers = ((await env.client.workflow.getHandle(handle.workflowId, firstRun).fetchHistory()).events ?? [])
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) =>
      Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? []).toString(),
    );
  // The run started on today's code: it moved on under the fold's marker (ADR-0032), without
  // asking upgrade-continue-as-new itself (v8-upgrade-continue-as-new replays a run that did).
  expect(markers.map((m) => (JSON.parse(m) as { id: string }).id)).toEqual([FOLD_MARKER]);
  expect((await upgraded.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe('b2');
  expect((await upgraded.query(stateQuery)).generation).toBeGreaterThan(0);
  await recordHistory(env, handle, 'upgrade-continue-as-new', firstRun);

  // build-id: this checkout's revision and its bundle's hash.
  expect(await orch('versions', 'build-id')).toMatchObject({
    code: 0,
    out: expect.stringMatching(/^[\w]{1,12}-[0-9a-f]{12}$/),
  });
  await handle.terminate('test over');
});
