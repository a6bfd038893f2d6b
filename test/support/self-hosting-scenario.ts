// The self-hosting upgrade, run the way production runs it, on whichever Temporal server the test
// gives (the dev server in npm test, the production server in test:production). The orchestrator
// project's production deploy is scripts/release-worker.sh (copy the built release aside, pass the
// replay gate, start the new build's worker, make its build current, then SIGTERM the old one),
// executed by the very worker it replaces. With another item's merge gate in flight on that
// worker, the old worker drains: the in-flight step and the deploy step itself finish there (no
// retry, nothing killed), then it exits 0 and the new build carries on (ADR-0028).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { itemBranch, STAGE_GRAPH, type WorkItemInput, type WorkItemState } from '../../src/domain';
import { startApi } from '../../src/api/start';
import { createLogger } from '../../src/util/logger';
import { initialState } from '../../src/workflows/initial-state';
import type { RunningServer } from '../../src/api/server';
import { describeDeployment } from '../../src/temporal/worker-deployments';
import { buildId } from '../../src/temporal/deployment-version';
import { prebuiltBundle, type PrebuiltBundle } from '../../src/worker/workflow-bundle';
import { createRepo } from './git-fixtures';
import { alive, freePort } from './processes';
import {
  startItem,
  taskQueue,
  testInput,
  waitForState,
  uniqueTicketNumber,
  reachedStaging,
  stagingOrBlocked,
} from './work-item-harness';

const ROOT = path.resolve(__dirname, '../..');
export const REPLACE_SCRIPT = path.join(ROOT, 'scripts/replace-worker.sh');
const SCRIPT = REPLACE_SCRIPT;
const RELEASE_SCRIPT = path.join(ROOT, 'scripts/release-worker.sh');
const WORKER = path.join(ROOT, 'dist/worker/main.js');
const ORCH = path.join(ROOT, 'dist/cli/orch.js');

// Real gates heartbeat every 5 s: a generous heartbeat timeout; one attempt is what is asserted.
const TIMEOUTS: WorkItemInput['timeouts'] = {
  agentMs: 60_000,
  gateMs: 60_000,
  deployMs: 90_000,
  heartbeatMs: 20_000,
  retryInitialIntervalMs: 100,
  retryMaximumAttempts: 3,
};

/** What the scenario leaves running, for the test's afterAll to stop. */
export interface ScenarioCleanup {
  readonly pids: number[];
  readonly servers: RunningServer[];
}

/** A carried state that starts the item at `stage` (earlier stages are other tests' business). */
function startingAt(
  input: WorkItemInput,
  stage: 'deploy' | 'testing',
  resume?: WorkItemState['resume'],
): WorkItemInput {
  const at = new Date().toISOString();
  return {
    ...input,
    timeouts: TIMEOUTS,
    carried: { ...initialState(input, at), stage, history: [{ stage, enteredAt: at }], resume },
  };
}

export async function selfHostingUpgrade(
  temporal: { readonly client: Client; readonly address: string },
  cleanup: ScenarioCleanup,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-self-host-'));
  const run = path.join(dir, 'run');
  const queue = taskQueue('self-hosting');
  // The orchestrator's repository as its build leaves it: the release's worker entry point (here
  // one that loads this checkout's build, so the real worker runs from the copied release).
  const self = createRepo({
    'README.md': '# orchestrator\n',
    'dist/worker/main.js': `require(${JSON.stringify(WORKER)});\n`,
    'dist/cli/orch.js': `require(${JSON.stringify(ORCH)});\n`,
  });
  const shop = createRepo();
  const apiPort = await freePort();
  const inFlightStarted = path.join(dir, 'in-flight-started');
  const inFlightGo = path.join(dir, 'in-flight-go');
  const releases = path.join(dir, 'releases');
  const deploy = `bash ${RELEASE_SCRIPT} --releases ${releases} --run-dir ${run} --env-file ${path.join(run, 'worker.env')} --timeout 90`;
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    [
      'projects:',
      '  orchestrator:',
      '    ticketPrefix: ORCH',
      '    selfHosting: true',
      `    repository: ${self.origin}`,
      '    gates: { security: false }',
      '    commands:',
      `      deployProduction: ${JSON.stringify(deploy)}`,
      '    health:',
      `      productionUrl: http://127.0.0.1:${apiPort}/readyz`,
      '      timeoutMs: 30000',
      '      intervalMs: 200',
      '    observation: { windowMs: 1000, probeIntervalMs: 200 }',
      '  shop:',
      '    ticketPrefix: SHOP',
      `    repository: ${shop.origin}`,
      '    commands:',
      // The in-flight step: a merge gate whose tests run until the old worker has been told to stop.
      // mkdir fails on a second run, so a retried (killed) step would fail the gate.
      `      test: ${JSON.stringify(`mkdir ${inFlightStarted} && while [ ! -e ${inFlightGo} ]; do sleep 0.1; done`)}`,
      '',
    ].join('\n'),
  );
  const settings = {
    TEMPORAL_ADDRESS: temporal.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_DATA_DIR: path.join(dir, 'data'),
    ORCH_API_PORT: String(apiPort),
    ORCH_WORKER_SHUTDOWN_GRACE_MS: '90000',
    ORCH_LOG_LEVEL: 'info',
    // This test is about replacing a worker under a running step: its project command latches in
    // files outside its checkout (to catch a retried step), which the sandbox rightly forbids.
    // No agent runs here; sandboxed project commands have tests of their own (merge-gate.test.ts).
    ORCH_AGENT_SANDBOX: 'off',
  };
  fs.mkdirSync(run, { recursive: true });
  fs.writeFileSync(
    path.join(run, 'worker.env'),
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const config = loadConfig({ ...settings, ORCH_METRICS_PORT: '0' }, dir);
  const api = await startApi(config, temporal.client, createLogger({ level: 'error' }));
  cleanup.servers.push(api);

  // The running orchestrator: its first worker, started the same way (no previous worker).
  const { execFileSync } = await import('node:child_process');
  execFileSync(
    'bash',
    [
      SCRIPT,
      '--run-dir',
      run,
      '--env-file',
      path.join(run, 'worker.env'),
      '--start',
      `node ${WORKER}`,
      '--timeout',
      '90',
    ],
    { env: { PATH: process.env.PATH, ORCH_REVISION: 'first-release' }, stdio: 'ignore' },
  );
  const oldPid = Number(fs.readFileSync(path.join(run, 'worker.pid'), 'utf8'));
  cleanup.pids.push(oldPid);
  const oldLog = () =>
    fs
      .readdirSync(run)
      .filter((f) => f.startsWith('worker-first-releas'))
      .map((f) => fs.readFileSync(path.join(run, f), 'utf8'))
      .join('');

  // Another project's item is in its merge gate on the old worker ...
  const inFlight = testInput({ title: 'Gift cards' });
  shop.commit(
    itemBranch(inFlight.ticket, inFlight.title),
    { 'src/gift.js': 'exports.g = 1;\n' },
    `feat(${inFlight.ticket}): gift cards`,
  );
  const inFlightHandle = await startItem(
    temporal,
    queue,
    startingAt(inFlight, 'testing', { phase: 'gates', fromGate: STAGE_GRAPH.testing.gates.indexOf('merge') }),
  );
  await until(() => fs.existsSync(inFlightStarted), 60_000, 'the in-flight merge gate to run');

  // ... when the orchestrator's own item deploys production.
  const upgrade = testInput({ project: 'orchestrator', ticket: `ORCH-${uniqueTicketNumber()}`, title: 'Faster gates' });
  self.commit(
    itemBranch(upgrade.ticket, upgrade.title),
    { 'CHANGELOG.md': '# Changelog\n- faster gates\n' },
    `feat(${upgrade.ticket}): faster gates`,
  );
  const upgradeHandle = await startItem(temporal, queue, startingAt(upgrade, 'deploy'));

  await until(() => oldLog().includes('stopping worker'), 90_000, 'the old worker to be told to stop');
  const newPid = Number(fs.readFileSync(path.join(run, 'worker.pid'), 'utf8'));
  cleanup.pids.push(newPid);
  expect(newPid).not.toBe(oldPid);
  expect(alive(newPid)).toBe(true);
  // The old worker drains: it is still there while the in-flight step runs.
  expect(alive(oldPid)).toBe(true);
  fs.writeFileSync(inFlightGo, '');

  const done = await upgradeHandle.result();
  expect(done.status).toBe('done');
  expect(done.gateResults.map((g) => `${g.gate}:${g.verdict}`)).toEqual(['artifacts:PASS', 'observation:PASS']);
  const inFlightState = await waitForState(inFlightHandle, stagingOrBlocked, 60_000);
  expect(reachedStaging(inFlightState)).toBe(true);
  expect(inFlightState.gateResults.filter((g) => g.gate === 'merge').map((g) => g.verdict)).toEqual(['PASS']);
  await until(() => !alive(oldPid), 60_000, 'the old worker to exit');
  expect(oldLog()).not.toContain('shutdown failed');

  // The deploy ran once, on the old worker, and recorded the revision it started.
  self.git('fetch', '--quiet', 'origin');
  const deployLog = self.git('show', `origin/${done.branch}:docs/work-items/${upgrade.ticket}/14-deploy-log.md`);
  expect(deployLog).toMatch(/^---\ndeploy_status: SUCCESS\n/);
  expect(deployLog).toContain('sent SIGTERM to the previous worker');
  const revision = self.git('rev-parse', 'origin/main').trim();
  expect(fs.readdirSync(run).some((f) => f.startsWith(`worker-${revision.slice(0, 12)}-`))).toBe(true);
  // The new worker runs from its own copy of the release, not from the reused build checkout.
  expect(fs.readFileSync(`/proc/${newPid}/cmdline`, 'utf8').split('\0')).toEqual([
    'node',
    path.join(releases, revision, 'dist/worker/main.js'),
    '',
  ]);
  expect(fs.existsSync(path.join(releases, revision, '.git'))).toBe(false);
  const history = await upgradeHandle.fetchHistory();
  const deployAttempts = (history.events ?? []).filter(
    (e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt !== 1,
  );
  expect(deployAttempts).toEqual([]);

  // Worker Versioning (ADR-0028): the release passed the replay gate and made its build current;
  // the first release's build no longer takes work, and the in-flight item moved to the new build.
  expect(deployLog).toMatch(/replayed \d+ open workflows .*: all replay/);
  const hash = (prebuiltBundle() as PrebuiltBundle).hash;
  const newBuild = buildId(revision, hash);
  const deployment = await describeDeployment({
    connection: temporal.client.connection,
    namespace: 'default',
    deploymentName: queue,
  });
  expect(deployment?.current).toBe(newBuild);
  expect(deployment?.versions.find((v) => v.buildId === buildId('first-release', hash))?.status).toMatch(
    /draining|drained/,
  );
  const described = await temporal.client.workflow.getHandle(inFlightHandle.workflowId).describe();
  expect(described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(newBuild);
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
