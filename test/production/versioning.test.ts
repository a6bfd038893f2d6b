// Worker Versioning on the production server (#19, ADR-0028). Build v1 (this checkout's worker)
// runs five items, one of them in the middle of an agent run on the real CLI and the scripted
// model. Build v2 (a release copy whose workflow code differs behind patched()) is started and made
// current with `orch versions set-current`, and v1 is told to stop: the agent run finishes on v1
// (not cut off, one attempt), every item finishes on v2 in a fresh run, and no workflow task fails.
// Then a 30% ramp to v2 splits new items, a rollback sends new work to v1 again, and a release
// whose workflow change is not behind patched() is refused by the replay gate before it starts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { submitWorkItem } from '../../src/client/work-items';
import { loadConfig, type AppConfig } from '../../src/config';
import { pipelineScript } from '../../src/dev/scripted-model/pipeline-script';
import { startScriptedModelServer, type ScriptedModelServer } from '../../src/dev/scripted-model/server';
import { workItemWorkflowId, type WorkItemState } from '../../src/domain';
import { describeDeployment } from '../../src/temporal/worker-deployments';
import { buildWorkflowBundle } from '../../src/worker/workflow-bundle';
import { stateQuery } from '../../src/workflows/messages';
import { scriptedWorkerEnv, startProductionTemporal, type ProductionTemporal } from '../support/production-temporal';
import { quickShop } from '../support/quick-shop';
import { spawnLogged, type Spawned } from '../support/processes';
import { runOrch } from '../support/run-orch';
import { connectGuarded } from '../../src/temporal/closed-channel-guard';

jest.setTimeout(600_000);

const ROOT = path.resolve(__dirname, '../..');
const DEPLOYMENT = 'orchestrator';
const HELD_TICKET = 'SHOP-1';
const FIVE = ['SHOP-1', 'SHOP-2', 'SHOP-3', 'SHOP-4', 'SHOP-5'];

let temporal: ProductionTemporal;
let model: ScriptedModelServer;
let health: http.Server;
let connection: Connection;
let client: Client;
let dir: string;
let env: Record<string, string>;
let config: AppConfig;
const workers: Spawned[] = [];
let releaseHeldTurn: () => void = () => undefined;
let heldTurnStarted = false;
/** While set, every new agent turn waits (the release in progress): no item can finish on v1. */
let frozen: Promise<void> | undefined;
/** Resolves when the held turn (and the frozen ones) may go on. */
let heldTurnReleased: Promise<void> = Promise.resolve();

beforeAll(async () => {
  temporal = await startProductionTemporal();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-versioning-test-'));
  ({ health } = await quickShop(dir));
  heldTurnReleased = new Promise<void>((resolve) => (releaseHeldTurn = resolve));
  model = await startScriptedModelServer(
    pipelineScript({
      // The first developer run of SHOP-1 is held mid-run across the upgrade.
      beforeTurn: async (turn) => {
        if (turn.ticket !== HELD_TICKET || turn.role !== 'developer' || turn.run !== 1 || turn.turnIndex !== 0) {
          await frozen;
          return;
        }
        heldTurnStarted = true;
        await heldTurnReleased;
      },
    }),
  );
  env = {
    ...scriptedWorkerEnv(temporal.address, dir, model.url),
    ORCH_DATA_DIR: path.join(dir, 'data'),
    // One host upgraded in place: both builds serve the same host queue and checkouts.
    ORCH_HOST_ID: 'host-1',
    ORCH_AGENT_SLOTS: '2',
    ORCH_WORKER_DEPLOYMENT: DEPLOYMENT,
    ORCH_WORKER_SHUTDOWN_GRACE_MS: '240000',
  };
  config = loadConfig({ ...env, ORCH_DATA_DIR: path.join(dir, 'client-data') });
  connection = await connectGuarded(temporal.address);
  client = new Client({ connection });
});

afterAll(async () => {
  releaseHeldTurn();
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await connection?.close();
  await model?.close();
  health?.close();
  await temporal?.close();
});

/** A release copy of this checkout (what release-worker.sh makes) whose workflow bundle is built from `workflows`. */
async function releaseWith(name: string, workflows: string): Promise<string> {
  const release = path.join(dir, 'releases', name);
  fs.mkdirSync(release, { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(release, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(release, 'package.json'));
  // The rest of the checkout as a release has it (role prompts, configuration, installed tools).
  for (const shared of fs.readdirSync(ROOT).filter((f) => !['dist', '.git', 'package.json'].includes(f)))
    fs.symlinkSync(path.join(ROOT, shared), path.join(release, shared));
  await buildWorkflowBundle(workflows, path.join(release, 'dist', 'workflow-bundle.js'));
  return release;
}

function startWorker(root: string, build: string, promote: 'if-none' | 'never'): Spawned {
  const worker = spawnLogged(process.execPath, [path.join(root, 'dist/worker/main.js')], {
    ...env,
    ORCH_WORKER_BUILD_ID: build,
    ORCH_WORKER_PROMOTE: promote,
  });
  workers.push(worker);
  return worker;
}

const orch = (...argv: string[]) => runOrch(argv, { ...env, USER: 'release-tester' });

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const state = (ticket: string) =>
  client.workflow
    .getHandle(workItemWorkflowId('shop', ticket))
    .query(stateQuery)
    .catch(() => undefined);

/** Every run of a workflow, oldest first, with its history. */
async function runsOf(workflowId: string): Promise<proto.api.history.v1.IHistoryEvent[][]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: e.runId, start: e.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  return Promise.all(
    runs.map(async (r) => (await client.workflow.getHandle(workflowId, r.runId).fetchHistory()).events ?? []),
  );
}

const Cause = proto.api.enums.v1.WorkflowTaskFailedCause;

/** Each failed workflow task: its cause (by name) and failure message. */
function failedTasks(events: proto.api.history.v1.IHistoryEvent[]): string[] {
  return events
    .map((e) => e.workflowTaskFailedEventAttributes)
    .filter((a) => a != null)
    .map((a) => `${Cause[a.cause ?? 0] ?? a.cause}: ${a.failure?.message ?? 'no failure recorded'}`);
}

/** Each activity started more than once: its type, attempt and why the attempt before failed. */
function retriedActivities(events: proto.api.history.v1.IHistoryEvent[]): string[] {
  const scheduled = new Map(events.map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes]));
  return events
    .filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1)
    .map((e) => {
      const started = e.activityTaskStartedEventAttributes;
      const type = scheduled.get(String(started?.scheduledEventId))?.activityType?.name;
      return `${type} attempt ${started?.attempt}: ${started?.lastFailure?.message ?? 'no failure recorded'}`;
    });
}

/** The build of the worker that ran the workflow's latest task. */
async function buildOf(workflowId: string): Promise<string | undefined> {
  const described = await client.workflow.getHandle(workflowId).describe();
  return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

async function submit(ticket: string): Promise<void> {
  await submitWorkItem(
    client,
    config,
    'shop',
    { ticket, title: `Apply coupon codes ${ticket}`, description: 'Customers enter a coupon code at checkout.' },
    { key: `versioning:${ticket}`, source: 'cli', type: 'ticket.created' },
  );
}

test('v2 made current with five items in flight on v1: the agent run finishes, every item finishes on v2, no task fails', async () => {
  const v1 = startWorker(ROOT, 'v1', 'if-none');
  await v1.waitFor(/worker polling/, 60_000);
  expect(v1.output()).toContain('made this worker version current');
  for (const ticket of FIVE) await submit(ticket);

  // SHOP-1's developer is mid-run on v1, and the items stand at different stages. From then on
  // new agent turns wait until v2 is current, so on a slow machine no item finishes on v1 while
  // v2 is being built: the runs under way when the turns froze span the upgrade like SHOP-1's.
  const stages = await until('the held developer run and items at different stages', 240_000, async () => {
    if (!heldTurnStarted) return undefined;
    const now = await Promise.all(FIVE.map(async (t) => (await state(t))?.stage));
    if (new Set(now).size < 2) return undefined;
    frozen = heldTurnReleased;
    return now;
  });
  expect(stages[0]).toBe('development');
  expect(stages.filter((s) => s === 'done')).toEqual([]);

  // v2: the release's worker polls but takes nothing until it is made current.
  const v2 = startWorker(await releaseWith('v2', path.join(ROOT, 'test/fixtures/workflow-v2/index.ts')), 'v2', 'never');
  await v2.waitFor(/worker polling/, 60_000);
  expect(v2.output()).toContain('this worker version is not current');
  expect(
    await orch('versions', 'check-replay', '--bundle', path.join(dir, 'releases/v2/dist/workflow-bundle.js')),
  ).toMatchObject({
    code: 0,
    out: expect.stringMatching(/^replayed \d+ open workflows .*: all replay$/),
  });
  expect(await orch('versions', 'set-current', 'v2')).toMatchObject({ code: 0, out: `${DEPLOYMENT}: v2 is current` });
  v1.child.kill('SIGTERM');
  releaseHeldTurn();

  const done = new Map<string, WorkItemState>();
  await until('all five items done', 420_000, async () => {
    for (const t of FIVE.filter((t) => !done.has(t))) {
      const s = await state(t);
      if (s?.status === 'done') done.set(t, s);
      else if (s?.status === 'blocked' || s?.status === 'cancelled')
        throw new Error(`${t} ${s.status} at ${s.stage}: ${s.blocked?.reason}`);
    }
    return done.size === FIVE.length ? true : undefined;
  });
  // v1 drained its running activities (the held agent run among them) and exited cleanly.
  expect(await v1.exited()).toBe(0);
  expect(v1.output()).toMatch(
    new RegExp(`"msg":"agent run finished".*"ticket":"${HELD_TICKET}".*"stage":"development"`),
  );

  for (const ticket of FIVE) {
    const id = workItemWorkflowId('shop', ticket);
    const runs = await runsOf(id);
    const events = runs.flat();
    // No task failed: not by non-determinism (a change not behind patched()), and not by the
    // server (an upsert of search attributes its history service did not know yet).
    expect({ ticket, failedTasks: failedTasks(events) }).toEqual({ ticket, failedTasks: [] });
    // The last run started on v2 (its marker) and ran only there.
    const last = runs.at(-1) ?? [];
    const patches = last
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .map((e) =>
        Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? []).toString(),
      );
    expect(patches.some((p) => p.includes('"fixture-v2-greets"'))).toBe(true);
    const builds = new Set(
      last.map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId).filter(Boolean),
    );
    expect([...builds]).toEqual(['v2']);
    expect(await buildOf(id)).toBe('v2');
    // No agent step was cut off: every started activity of every run was its first attempt.
    expect({ ticket, retried: retriedActivities(events) }).toEqual({ ticket, retried: [] });
  }
  // The held item's developer run spanned the upgrade: scheduled and started on v1, completed.
  const held = (await runsOf(workItemWorkflowId('shop', HELD_TICKET))).flat();
  expect(held.some((e) => e.activityTaskCompletedEventAttributes)).toBe(true);

  const shown = await orch('versions');
  expect(shown.code).toBe(0);
  expect(shown.out).toMatch(/^current {3}v2$/m);
  expect(shown.out).toMatch(/^ {2}v1 {2}(draining|drained) {2}0 open items/m);
});

test('a 30% ramp to v2 splits new items; rolling back sends new work to v1', async () => {
  const v1 = startWorker(ROOT, 'v1', 'never');
  await v1.waitFor(/worker polling/, 60_000);
  expect(await orch('versions', 'set-current', 'v1')).toMatchObject({ code: 0 });
  expect(await orch('versions', 'ramp', 'v2', '30')).toMatchObject({
    code: 0,
    out: `${DEPLOYMENT}: v2 gets 30% of new work and of auto-upgrade items`,
  });
  expect((await orch('versions')).out).toMatch(/^ramping {3}v2 at 30%$/m);

  const ramped = Array.from({ length: 50 }, (_, i) => `SHOP-${100 + i}`);
  const builds = await startedOn(ramped);
  const onV2 = builds.filter((b) => b === 'v2').length;
  expect(builds.filter((b) => b !== 'v1' && b !== 'v2')).toEqual([]);
  // 30% of 50 is 15 (sd 3.2): anything from 6 to 26 is a ramp; 0 or 50 is not.
  expect(onV2).toBeGreaterThanOrEqual(6);
  expect(onV2).toBeLessThanOrEqual(26);

  expect(await orch('versions', 'ramp', 'off')).toMatchObject({ code: 0, out: `${DEPLOYMENT}: no ramp` });
  const after = await startedOn(Array.from({ length: 10 }, (_, i) => `SHOP-${200 + i}`));
  expect(after).toEqual(Array(10).fill('v1'));
});

test('a release whose workflow change is not behind patched() is refused by the replay gate before it starts', async () => {
  // Open items to protect: the ramp test's items were ended; start three on the current build.
  await startedOn(['SHOP-300', 'SHOP-301', 'SHOP-302'], false);
  const revision = 'badc0ffee';
  await releaseWith(revision, path.join(ROOT, 'test/fixtures/incompatible-workflow/index.ts'));
  const run = path.join(dir, 'run');
  fs.mkdirSync(run, { recursive: true });
  const envFile = path.join(run, 'worker.env');
  fs.writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  let failure: { status: number; stderr: string } | undefined;
  try {
    execFileSync(
      'bash',
      [
        path.join(ROOT, 'scripts/release-worker.sh'),
        '--releases',
        path.join(dir, 'releases'),
        '--run-dir',
        run,
        '--env-file',
        envFile,
      ],
      { cwd: dir, env: { PATH: process.env.PATH, ORCH_REVISION: revision }, encoding: 'utf8', stdio: 'pipe' },
    );
  } catch (err) {
    failure = err as { status: number; stderr: string };
  }
  expect(failure?.status).toBe(1);
  expect(failure?.stderr).toContain('would fail on this build');
  expect(failure?.stderr).toContain(workItemWorkflowId('shop', 'SHOP-300'));
  expect(failure?.stderr).toMatch(/release-worker: the replay gate refused build badc0ffee-\w+/);
  // Nothing was started and the routing is as it was.
  expect(fs.existsSync(path.join(run, 'worker.pid'))).toBe(false);
  const deployment = await describeDeployment({ connection, namespace: 'default', deploymentName: DEPLOYMENT });
  expect(deployment?.current).toBe('v1');
  expect(deployment?.versions.map((v) => v.buildId).sort()).toEqual(['v1', 'v2']);
});

/**
 * Submits items and answers the build each one's first workflow task ran on; ends them afterwards
 * unless `keep` (what is measured is the routing of their start, not the pipeline).
 */
async function startedOn(tickets: readonly string[], end = true): Promise<string[]> {
  for (const ticket of tickets) await submit(ticket);
  const builds = await Promise.all(
    tickets.map((t) =>
      until(`${t}'s first workflow task`, 120_000, async () => {
        const history = await client.workflow.getHandle(workItemWorkflowId('shop', t)).fetchHistory();
        const first = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
        return first?.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? undefined;
      }),
    ),
  );
  if (end)
    for (const t of tickets)
      await client.workflow
        .getHandle(workItemWorkflowId('shop', t))
        .terminate('ramp measured')
        .catch(() => undefined);
  return builds;
}
