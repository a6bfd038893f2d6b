// The self-hosting upgrade on the dev server (the scenario: test/support/self-hosting-scenario.ts;
// test/production/self-hosting.test.ts runs it on the production server), and replace-worker.sh's
// refusal to leave the queue without a worker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { alive } from '../support/processes';
import { REPLACE_SCRIPT as SCRIPT, selfHostingUpgrade, type ScenarioCleanup } from '../support/self-hosting-scenario';
import { startTemporal } from '../support/temporal';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
const cleanup: ScenarioCleanup = { pids: [], servers: [] };
const pids = cleanup.pids;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const server of cleanup.servers) await server.close();
  await env?.teardown();
});

test('the orchestrator deploying itself replaces its worker gracefully with a work item in flight', () =>
  selfHostingUpgrade(env, cleanup));

test('a new worker that never polls is stopped and the previous one keeps running', async () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-self-host-fail-'));
  const { spawn } = await import('node:child_process');
  const previous = spawn('sleep', ['600'], { stdio: 'ignore' });
  pids.push(previous.pid!);
  fs.writeFileSync(path.join(run, 'worker.pid'), String(previous.pid));
  const { spawnSync } = await import('node:child_process');
  const result = spawnSync(
    'bash',
    [
      SCRIPT,
      '--run-dir',
      run,
      '--start',
      'node -e "console.log(\'cannot reach Temporal\'); setTimeout(() => {}, 60000)"',
      '--timeout',
      '2',
    ],
    { env: { PATH: process.env.PATH, ORCH_REVISION: 'badc0ffee' }, encoding: 'utf8' },
  );
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    'replace-worker: the new worker (revision badc0ffee) did not poll within 2s; stopped it, the previous worker keeps running',
  );
  expect(result.stderr).toContain('cannot reach Temporal');
  expect(alive(previous.pid!)).toBe(true);
  expect(fs.readFileSync(path.join(run, 'worker.pid'), 'utf8').trim()).toBe(String(previous.pid));
});
