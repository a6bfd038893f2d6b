// `npm run test:production`: the orchestrator as compose runs it, against the real Temporal server
// on PostgreSQL (scripts/production-temporal.sh). The worker and the API run from their
// production entry points as separate processes; an item walks the whole pipeline with the real
// Claude Code CLI and the scripted model, real git, real gates and a local deploy target, while
// the Temporal server and then the worker are killed with SIGKILL and started again. A staging
// worker serves its own namespace and task queue; an override goes through
// `temporal workflow update execute`; `orch list` filters on SQL visibility.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveTool } from '../../src/config/paths';
import { createSampleRepository, sampleProjectYaml, stopSampleServices } from '../../src/dev/sample-project';
import { pipelineScript } from '../../src/dev/scripted-model/pipeline-script';
import { startScriptedModelServer, type ScriptedModelServer } from '../../src/dev/scripted-model/server';
import { STAGES, WORK_ITEM_SEARCH_ATTRIBUTES, workItemWorkflowId, type WorkItemState } from '../../src/domain';
import { scriptedWorkerEnv, startProductionTemporal, type ProductionTemporal } from '../support/production-temporal';
import { freePort, spawnLogged, type Spawned } from '../support/processes';
import { runOrch } from '../support/run-orch';

jest.setTimeout(600_000);

const DIST = path.resolve(__dirname, '../../dist');
let temporal: ProductionTemporal;
let model: ScriptedModelServer;
let dir: string;
let env: Record<string, string>;
const running: Spawned[] = [];

beforeAll(async () => {
  temporal = await startProductionTemporal();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-prod-test-'));
  const { origin } = await createSampleRepository(dir);
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    `projects:\n${sampleProjectYaml({ key: 'shop', ticketPrefix: 'SHOP', origin, root: dir, stagingPort: await freePort(), productionPort: await freePort() })}`,
  );
  model = await startScriptedModelServer(pipelineScript({}));
  env = {
    ...scriptedWorkerEnv(temporal.address, dir, model.url),
    // A killed worker's running activities are retried after this long, not after a minute.
    ORCH_HEARTBEAT_TIMEOUT_MS: '5000',
    ORCH_ACTIVITY_RETRY_INITIAL_MS: '500',
  };
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await model?.close();
  await temporal?.close();
  if (dir) stopSampleServices(dir);
});

function startWorker(name: string, extra: Record<string, string> = {}): Spawned {
  const worker = spawnLogged(process.execPath, [path.join(DIST, 'worker/main.js')], {
    ...env,
    ORCH_DATA_DIR: path.join(dir, `${name}-data`),
    ...extra,
  });
  running.push(worker);
  return worker;
}

async function temporalCli(args: string[], namespace = 'default'): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(resolveTool('temporal'), [
      ...args,
      '--address',
      temporal.address,
      '--namespace',
      namespace,
    ]);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function stateOf(ticket: string, namespace = 'default'): Promise<WorkItemState | undefined> {
  const status = await runOrch(['status', ticket, '--json'], { ...env, TEMPORAL_NAMESPACE: namespace });
  return status.code === 0 ? (JSON.parse(status.out) as WorkItemState) : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('an item walks the whole pipeline on the production server, through a server crash and a worker crash', async () => {
  const apiPort = await freePort();
  const api = spawnLogged(process.execPath, [path.join(DIST, 'api/main.js')], {
    ...env,
    ORCH_DATA_DIR: path.join(dir, 'api-data'),
    ORCH_API_PORT: String(apiPort),
    ORCH_METRICS_PORT: String(await freePort()),
  });
  running.push(api);
  await api.waitFor(/"msg":"api listening"|api listening/, 30_000);
  const metricsPort = await freePort();
  let worker = startWorker('worker', { ORCH_WORKER_METRICS_PORT: String(metricsPort) });
  await worker.waitFor(/worker polling/, 60_000);
  // It runs the workflow code `npm run build` bundled, named by its hash; no bundling at start.
  expect(worker.output()).toMatch(/"msg":"workflow bundle loaded".*"hash":"[0-9a-f]{16}"/);
  expect(worker.output()).not.toContain('bundling at start');
  // The worker registered the work items' search attributes itself (no setup script).
  // The server's caches make it visible to every caller within seconds, not at once.
  await waitFor(
    'the search attributes listed',
    async () => {
      const listed = (await temporalCli(['operator', 'search-attribute', 'list'])).out;
      return WORK_ITEM_SEARCH_ATTRIBUTES.every((key) => listed.includes(key.name)) ? true : undefined;
    },
    30_000,
  );

  expect((await runOrch(['submit', 'shop', 'SHOP-1', '--title', 'Apply coupon codes at checkout'], env)).code).toBe(0);

  // The server dies while the item is in development; it comes back on the same database.
  await waitFor('SHOP-1 in development', async () =>
    (await stateOf('SHOP-1'))?.stage === 'development' ? true : undefined,
  );
  await temporal.kill();
  await new Promise((r) => setTimeout(r, 2000));
  await temporal.start();

  // The worker dies while the item is in review; a new worker process takes over.
  await waitFor('SHOP-1 in review', async () => ((await stateOf('SHOP-1'))?.stage === 'review' ? true : undefined));
  worker.child.kill('SIGKILL');
  await worker.exited();
  worker = startWorker('worker', { ORCH_WORKER_METRICS_PORT: String(metricsPort) });

  const final = await waitFor('SHOP-1 done', async () => {
    const state = await stateOf('SHOP-1');
    if (state?.status === 'blocked') throw new Error(`SHOP-1 blocked: ${JSON.stringify(state.blocked)}`);
    return state?.status === 'done' ? state : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- worker ---\n${worker.output().slice(-4000)}`);
  });
  expect(final.stage).toBe('done');
  // Every stage of the pipeline was visited.
  expect(final.history.map((v) => v.stage)).toEqual(expect.arrayContaining([...STAGES]));
  expect(final.gateResults.find((g) => g.gate === 'merge')?.verdict).toBe('PASS');
  expect(final.gateResults.find((g) => g.gate === 'observation')?.verdict).toBe('PASS');

  // SQL visibility answers orch's filters (eventually consistent: polled).
  const listed = await waitFor('SHOP-1 listed as done', async () => {
    const list = await runOrch(['list', '--project', 'shop', '--stage', 'done', '--all', '--json'], env);
    return list.code === 0 && list.out.includes('SHOP-1') ? list.out : undefined;
  });
  expect(listed).toContain('SHOP-1');
  const blocked = await runOrch(['list', '--blocked', '--json'], env);
  expect(blocked.code).toBe(0);
  expect(blocked.out).not.toContain('SHOP-1');
  // One scrape has the worker's own metrics and the SDK's: slots, schedule-to-start latency.
  const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(scraped).toContain('orch_agent_runs_total');
  expect(scraped).toMatch(/^temporal_worker_task_slots_used\{/m);
  expect(scraped).toMatch(/^temporal_activity_schedule_to_start_latency(_seconds)?_bucket\{/m);
  expect(scraped).toMatch(/^temporal_workflow_task_schedule_to_start_latency(_seconds)?_bucket\{/m);

  // The API, started before the server crash, answers for the production server again.
  expect(await (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).json()).toMatchObject({
    status: 'ready',
    temporal: 'reachable',
  });
});

test('the staging namespace has its own worker and task queue; overrides go through `temporal workflow update execute`', async () => {
  const staging = startWorker('staging-worker', {
    TEMPORAL_NAMESPACE: 'staging',
    ORCH_TASK_QUEUE: 'orchestrator-staging',
    // Without model credentials the agent step needs a person: the item waits, blocked.
    ANTHROPIC_API_KEY: '',
  });
  await staging.waitFor(/worker polling/, 60_000);
  const stagingEnv = { ...env, TEMPORAL_NAMESPACE: 'staging', ORCH_TASK_QUEUE: 'orchestrator-staging' };
  expect((await runOrch(['submit', 'shop', 'SHOP-2', '--title', 'Staging check'], stagingEnv)).code).toBe(0);
  const state = await waitFor('SHOP-2 blocked in staging', async () => {
    const s = await stateOf('SHOP-2', 'staging');
    return s?.status === 'blocked' ? s : undefined;
  });
  expect(state.blocked?.reason).toMatch(/no model credentials/);
  // It ran on the staging queue, and production knows nothing of it.
  const workflowId = workItemWorkflowId('shop', 'SHOP-2');
  expect((await temporalCli(['workflow', 'describe', '--workflow-id', workflowId], 'staging')).out).toContain(
    'orchestrator-staging',
  );
  expect((await temporalCli(['workflow', 'describe', '--workflow-id', workflowId], 'default')).code).not.toBe(0);
  const blocked = await waitFor('SHOP-2 listed as blocked', async () => {
    const list = await runOrch(['list', '--blocked', '--json'], stagingEnv);
    return list.code === 0 && list.out.includes('SHOP-2') ? list.out : undefined;
  });
  expect(blocked).toContain('SHOP-2');

  // An override with bad input is refused with the reason, and changes nothing.
  const refused = await temporalCli(
    ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'cancel', '--input', '{}'],
    'staging',
  );
  expect(refused.code).not.toBe(0);
  expect(refused.out).toMatch(/cancel: \\?"by\\?" \(who is asking\) is required/);
  expect((await stateOf('SHOP-2', 'staging'))?.status).toBe('blocked');
  const cancelled = await temporalCli(
    [
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowId,
      '--name',
      'cancel',
      '--input',
      JSON.stringify({ by: 'ops', reason: 'staging check done' }),
    ],
    'staging',
  );
  expect(cancelled).toMatchObject({ code: 0 });
  await waitFor('SHOP-2 cancelled', async () =>
    (await stateOf('SHOP-2', 'staging'))?.status === 'cancelled' ? true : undefined,
  );
});
