// The deploy steps with a real local service: the project's deploy command starts a small HTTP
// server from the repository (handed to its own session with setsid, as a supervisor would take
// it), the health URL is polled on 127.0.0.1, and the deploy log lands on the item's branch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeployActivities } from '../../src/activities/deploy';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { StepInput, StepResult } from '../../src/domain';
import { FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { createRepo, type TestRepo } from '../support/git-fixtures';
import { freePort } from '../support/processes';
import { SAMPLE_SERVER, startedServices } from '../support/sample-service';

jest.setTimeout(60_000);

const BRANCH = 'feature/SHOP-42-coupons';
const services = startedServices();
afterAll(() => services.stop());

const input = (stage: 'deploy-staging' | 'deploy'): StepInput => ({
  project: 'shop',
  ticket: 'SHOP-42',
  title: 'Coupons',
  description: '',
  stage,
  attempt: 1,
  findings: [],
  remainingBudgetUsd: 1,
  branch: BRANCH,
});

/** `timeoutMs`: generous when the service should come up (node starts slowly on a busy machine). */
async function setup(
  status: number,
  commandOverride?: string,
  timeoutMs = 20_000,
): Promise<{ repo: TestRepo; config: AppConfig; port: number }> {
  const repo = createRepo({ 'README.md': '# shop\n', 'server.js': SAMPLE_SERVER });
  repo.commit(BRANCH, { 'CHANGELOG.md': '# Changelog\n- coupons\n' });
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-deploy-'));
  const pidFile = path.join(dataDir, 'service.pid');
  services.pidFiles.push(pidFile);
  const command =
    commandOverride ??
    `PORT=${port} STATUS=${status} PIDFILE=${pidFile} setsid node server.js > /dev/null 2>&1 < /dev/null &`;
  const yaml = [
    'projects:',
    '  shop:',
    '    ticketPrefix: SHOP',
    `    repository: ${repo.origin}`,
    '    commands:',
    `      deployStaging: ${JSON.stringify(command)}`,
    '    health:',
    `      stagingUrl: http://127.0.0.1:${port}/health`,
    `      timeoutMs: ${timeoutMs}`,
    '      intervalMs: 100',
    '',
  ].join('\n');
  return {
    repo,
    port,
    config: {
      temporal: loadTemporalSettings({}),
      env: loadEnv({}),
      projectsFile: path.join(dataDir, 'projects.yaml'),
      projects: parseProjects(yaml, 'p.yaml').projects,
      dataDir,
    },
  };
}

function stagingLog(repo: TestRepo): string {
  repo.git('fetch', '--quiet', 'origin');
  return repo.git('show', `origin/${BRANCH}:docs/work-items/SHOP-42/15-staging-log.md`);
}

test('a staging deploy starts the service from main, waits for it to be healthy and logs SUCCESS on the branch', async () => {
  const { repo, config, port } = await setup(200);
  const result = (await new MockActivityEnvironment().run(
    createDeployActivities(config).deployStaging,
    input('deploy-staging'),
  )) as StepResult;
  const main = repo.git('rev-parse', 'main').trim();
  expect(result.summary).toMatch(
    new RegExp(
      `^staging deploy of ${main.slice(0, 12)}: SUCCESS \\(HTTP 200 from http://127.0.0.1:${port}/health after \\d+ probe\\(s\\)\\)$`,
    ),
  );
  const log = stagingLog(repo);
  expect(log).toMatch(/^---\nstaging_status: SUCCESS\nenvironment: staging\n/);
  expect(log).toContain(`revision: ${main}`);
  // The service runs on and serves the deployed revision.
  expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe(main);
});

test('a service that never gets healthy is FAILED with what the probe saw', async () => {
  const { repo, config, port } = await setup(503, undefined, 8000);
  const result = (await new MockActivityEnvironment().run(
    createDeployActivities(config).deployStaging,
    input('deploy-staging'),
  )) as StepResult;
  expect(result.summary).toContain(
    `FAILED (not healthy within 8000 ms at http://127.0.0.1:${port}/health (last: HTTP 503))`,
  );
  expect(stagingLog(repo)).toMatch(/^---\nstaging_status: FAILED\n/);
});

test('a failing deploy command is FAILED with the tail of its output, without a health check', async () => {
  const { repo, config } = await setup(200, 'echo "registry refused the push" >&2; exit 4');
  await new MockActivityEnvironment().run(createDeployActivities(config).deployStaging, input('deploy-staging'));
  const log = stagingLog(repo);
  expect(log).toContain('staging_status: FAILED');
  expect(log).toContain('command_exit: 4');
  expect(log).toContain('health: "not checked: the deploy command failed"');
  expect(log).toContain('registry refused the push');
});

test('a project without a production deploy blocks the item with what to configure', async () => {
  const { config } = await setup(200);
  await expect(
    new MockActivityEnvironment().run(createDeployActivities(config).deployProduction, input('deploy')),
  ).rejects.toMatchObject({
    type: FAILURE_NEEDS_PERSON,
    message: 'no production deploy is configured for shop: set commands.deployProduction and its health URL',
  });
});

test('two deploys of one project at once take its build checkout in turn', async () => {
  const order = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-deploy-order-')), 'order.log');
  const { repo, config } = await setup(200, `echo start >> ${order}; sleep 0.4; echo end >> ${order}; exit 1`, 500);
  const other = 'feature/SHOP-43-gift-cards';
  repo.commit(other, { 'GIFT.md': 'gift cards\n' });
  const deploy = (ticket: string, branch: string) =>
    new MockActivityEnvironment().run(createDeployActivities(config).deployStaging, {
      ...input('deploy-staging'),
      ticket,
      branch,
    });
  // Both clone the build checkout for the first time: neither may see the other's half-made clone.
  await Promise.all([deploy('SHOP-42', BRANCH), deploy('SHOP-43', other)]);
  expect(fs.readFileSync(order, 'utf8').trim().split('\n')).toEqual(['start', 'end', 'start', 'end']);
  expect(stagingLog(repo)).toContain('staging_status: FAILED');
});
