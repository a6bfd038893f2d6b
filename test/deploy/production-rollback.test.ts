// The rollbackProduction activity (a person rolled an item back from deploy) with a real local
// service: the project's rollback command puts a release back on 127.0.0.1, production's health is
// checked, and 18-rollback-log.md records who asked and what happened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createProductionRollbackActivities } from '../../src/activities/production-rollback';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { ProductionRollbackInput, ProductionRollbackResult } from '../../src/domain';
import { createRepo, type TestRepo } from '../support/git-fixtures';
import { freePort } from '../support/processes';
import { SAMPLE_SERVER, startedServices } from '../support/sample-service';

jest.setTimeout(60_000);

const BRANCH = 'feature/SHOP-42-coupons';
const services = startedServices();
afterAll(() => services.stop());

const input: ProductionRollbackInput = {
  project: 'shop',
  ticket: 'SHOP-42',
  branch: BRANCH,
  by: 'priya',
  reason: 'checkout errors',
};

async function setup(
  rollback: (port: number, pidFile: string) => string | undefined,
): Promise<{ repo: TestRepo; config: AppConfig }> {
  const repo = createRepo({ 'README.md': '# shop\n', 'server.js': SAMPLE_SERVER });
  repo.commit(BRANCH, { 'CHANGELOG.md': '# Changelog\n- coupons\n' });
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-rollback-'));
  const pidFile = path.join(dataDir, 'previous-release.pid');
  services.pidFiles.push(pidFile);
  const command = rollback(port, pidFile);
  const yaml = [
    'projects:',
    '  shop:',
    '    ticketPrefix: SHOP',
    `    repository: ${repo.origin}`,
    ...(command ? ['    commands:', `      rollback: ${JSON.stringify(command)}`] : []),
    '    health:',
    `      productionUrl: http://127.0.0.1:${port}/health`,
    '      timeoutMs: 20000',
    '      intervalMs: 100',
    '',
  ].join('\n');
  return {
    repo,
    config: {
      temporal: loadTemporalSettings({}),
      env: loadEnv({}),
      projectsFile: path.join(dataDir, 'projects.yaml'),
      projects: parseProjects(yaml, 'p.yaml').projects,
      dataDir,
    },
  };
}

function rollbackLog(repo: TestRepo): string {
  repo.git('fetch', '--quiet', 'origin');
  return repo.git('show', `origin/${BRANCH}:docs/work-items/SHOP-42/18-rollback-log.md`);
}

const run = (config: AppConfig) =>
  new MockActivityEnvironment().run(
    createProductionRollbackActivities(config).rollbackProduction,
    input,
  ) as Promise<ProductionRollbackResult>;

test('the rollback command puts a healthy release back and the log says ROLLED_BACK with who asked', async () => {
  const { repo, config } = await setup(
    (port, pidFile) =>
      `PORT=${port} STATUS=200 PIDFILE=${pidFile} setsid node server.js > /dev/null 2>&1 < /dev/null &`,
  );
  const result = await run(config);
  const main = repo.git('rev-parse', 'main').trim();
  expect(result.ok).toBe(true);
  expect(result.detail).toMatch(
    new RegExp(
      `^production rollback from ${main.slice(0, 12)}: rollback \`.+\` succeeded; production health: HTTP 200 from .+ after \\d+ probe\\(s\\)$`,
    ),
  );
  const log = rollbackLog(repo);
  expect(log).toMatch(/^---\nrollback_status: ROLLED_BACK\n/);
  expect(log).toContain(`rolled_back_from: ${main}`);
  expect(log).toContain('requested_by: priya');
  expect(log).toContain('reason: checkout errors');
});

test('a rollback command that leaves production unhealthy is FAILED with what the probe saw', async () => {
  const { repo, config } = await setup(() => 'true');
  config.projects.shop!.health.timeoutMs = 500;
  const result = await run(config);
  expect(result.ok).toBe(false);
  expect(result.detail).toMatch(
    /rollback `true` succeeded; production health: not healthy within 500 ms at http:\/\/127\.0\.0\.1:\d+\/health \(last: no answer/,
  );
  expect(rollbackLog(repo)).toMatch(/^---\nrollback_status: FAILED\n/);
});

test('without a rollback command nothing runs and the result says production still runs the revision', async () => {
  const { repo, config } = await setup(() => undefined);
  const result = await run(config);
  expect(result.ok).toBe(false);
  expect(result.detail).toContain('no rollback command is configured (commands.rollback)');
  expect(rollbackLog(repo)).toMatch(/^---\nrollback_status: FAILED\n/);
});
