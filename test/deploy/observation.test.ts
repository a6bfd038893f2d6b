// The observation gate against a real local service: healthy through the window passes and logs
// HEALTHY; a service that fails a probe triggers the rollback command and sends the item back.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGateActivities } from '../../src/activities/gates';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { parseProjects } from '../../src/config/projects';
import type { GateInput, GateOutcome } from '../../src/domain';
import { createRepo, type TestRepo } from '../support/git-fixtures';

const BRANCH = 'feature/SHOP-42-coupons';
const input: GateInput = { project: 'shop', ticket: 'SHOP-42', stage: 'deploy', gate: 'observation', attempt: 1, branch: BRANCH };

/** A production stand-in whose health answers follow `statuses`, then the last one. */
async function service(statuses: number[]): Promise<{ url: string; close(): void }> {
  let n = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(statuses[Math.min(n++, statuses.length - 1)] as number).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, close: () => server.close() };
}

function config(repo: TestRepo, url: string, rollbackMarker: string): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-observe-'));
  fs.mkdirSync(path.join(dataDir, 'build', 'shop'), { recursive: true });
  const yaml = `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    commands:\n      rollback: ${JSON.stringify(`echo "rolled back from $ORCH_REVISION" > ${rollbackMarker}`)}\n    health:\n      productionUrl: ${url}\n    observation:\n      windowMs: 600\n      probeIntervalMs: 100\n`;
  return { env: loadEnv({}), projectsFile: path.join(dataDir, 'projects.yaml'), projects: parseProjects(yaml, 'p.yaml').projects, dataDir };
}

function log(repo: TestRepo): string {
  repo.git('fetch', '--quiet', 'origin');
  return repo.git('show', `origin/${BRANCH}:docs/work-items/SHOP-42/16-post-deploy-log.md`);
}

test('a service healthy for the whole window passes and the log says HEALTHY', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'a.md': 'a\n' });
  const prod = await service([200]);
  const marker = path.join(os.tmpdir(), `rollback-${Date.now()}-ok`);
  try {
    const outcome = (await new MockActivityEnvironment().run(createGateActivities(config(repo, prod.url, marker)).runGate, input)) as GateOutcome;
    expect(outcome.verdict).toBe('PASS');
    expect(outcome.findings[0]).toMatch(/^healthy for \d+ probe\(s\) over 600 ms at http:\/\/127\.0\.0\.1:\d+\/health$/);
    expect(log(repo)).toMatch(/^---\nobservation_status: HEALTHY\n/);
    expect(fs.existsSync(marker)).toBe(false);
  } finally {
    prod.close();
  }
});

test('a failed probe runs the rollback command and fails with the evidence', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'a.md': 'a\n' });
  const prod = await service([200, 200, 500]);
  const marker = path.join(os.tmpdir(), `rollback-${Date.now()}-bad`);
  try {
    const outcome = (await new MockActivityEnvironment().run(createGateActivities(config(repo, prod.url, marker)).runGate, input)) as GateOutcome;
    const main = repo.git('rev-parse', 'main').trim();
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings[0]).toMatch(new RegExp(`^production became unhealthy after the deploy of ${main.slice(0, 12)}: HTTP 500 from ${prod.url} at .+; rollback \`.+\` succeeded$`));
    expect(fs.readFileSync(marker, 'utf8')).toBe(`rolled back from ${main}\n`);
    expect(log(repo)).toMatch(/^---\nobservation_status: DEGRADED\n/);
  } finally {
    prod.close();
  }
});
