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
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { GateInput, GateOutcome } from '../../src/domain';
import { createRepo, type TestRepo } from '../support/git-fixtures';

const BRANCH = 'feature/SHOP-42-coupons';
const input: GateInput = {
  project: 'shop',
  ticket: 'SHOP-42',
  stage: 'deploy',
  gate: 'observation',
  attempt: 1,
  branch: BRANCH,
};

/** A production stand-in whose health answers follow `statuses`, then the last one. */
async function service(statuses: number[]): Promise<{ url: string; close(): void }> {
  let n = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(statuses[Math.min(n++, statuses.length - 1)] as number).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, close: () => server.close() };
}

function config(
  repo: TestRepo,
  url: string,
  rollbackMarker: string,
  window = { windowMs: 600, probeIntervalMs: 100 },
): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-observe-'));
  fs.mkdirSync(path.join(dataDir, 'build', 'shop'), { recursive: true });
  const yaml = `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    commands:\n      rollback: ${JSON.stringify(`echo "rolled back from $ORCH_REVISION in $(git rev-parse HEAD)" > ${rollbackMarker}`)}\n    health:\n      productionUrl: ${url}\n    observation:\n      windowMs: ${window.windowMs}\n      probeIntervalMs: ${window.probeIntervalMs}\n`;
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(yaml, 'p.yaml').projects,
    dataDir,
  };
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
    const outcome = (await new MockActivityEnvironment().run(
      createGateActivities(config(repo, prod.url, marker)).runGate,
      input,
    )) as GateOutcome;
    expect(outcome.verdict).toBe('PASS');
    expect(outcome.findings[0]).toMatch(
      /^healthy for \d+ probe\(s\) over 600 ms at http:\/\/127\.0\.0\.1:\d+\/health$/,
    );
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
    const outcome = (await new MockActivityEnvironment().run(
      createGateActivities(config(repo, prod.url, marker)).runGate,
      input,
    )) as GateOutcome;
    const main = repo.git('rev-parse', 'main').trim();
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings[0]).toMatch(
      new RegExp(
        `^production became unhealthy after the deploy of ${main.slice(0, 12)}: HTTP 500 from ${prod.url} at .+; rollback \`.+\` succeeded$`,
      ),
    );
    // In the build checkout, at the revision it rolls back from.
    expect(fs.readFileSync(marker, 'utf8')).toBe(`rolled back from ${main} in ${main}\n`);
    expect(log(repo)).toMatch(/^---\nobservation_status: DEGRADED\n/);
  } finally {
    prod.close();
  }
});

/** A service that counts the probes it answered. */
async function countingService(status: number): Promise<{ url: string; probes(): number; close(): void }> {
  let n = 0;
  const server = http.createServer((_req, res) => {
    n++;
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
    probes: () => n,
    close: () => server.close(),
  };
}

function okProbes(count: number, url: string) {
  return Array.from({ length: count }, (_, i) => ({
    at: new Date(Date.now() - 1000 + i).toISOString(),
    ok: true,
    detail: `HTTP 200 from ${url}`,
  }));
}

describe('the window survives a retry of the activity (worker crash or replacement)', () => {
  test('a retry continues the window of the previous attempt and keeps its probes', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'a.md': 'a\n' });
    const prod = await countingService(200);
    const main = repo.git('rev-parse', 'main').trim();
    // 2 of the 3 seconds of the window were watched before the "crash".
    const startedAtMs = Date.now() - 2000;
    const checkpoint = { revision: main, startedAtMs, probeCount: 10, probes: okProbes(10, prod.url) };
    const mock = new MockActivityEnvironment({ heartbeatDetails: { gate: 'observation', checkpoint } });
    const saved: unknown[] = [];
    mock.on('heartbeat', (d: { checkpoint?: unknown }) => d.checkpoint && saved.push(d.checkpoint));
    try {
      const window = { windowMs: 3000, probeIntervalMs: 200 };
      const outcome = (await mock.run(
        createGateActivities(config(repo, prod.url, '/nonexistent/marker', window)).runGate,
        input,
      )) as GateOutcome;
      expect(outcome.verdict).toBe('PASS');
      // Only what was left of the window was probed (at most 5 probes), not a new window (15).
      expect(prod.probes()).toBeLessThanOrEqual(5);
      expect(outcome.findings[0]).toBe(`healthy for ${10 + prod.probes()} probe(s) over 3000 ms at ${prod.url}`);
      expect(log(repo)).toContain(`window_started_at: ${new Date(startedAtMs).toISOString()}`);
      if (prod.probes() > 0)
        expect(saved.at(-1)).toMatchObject({ revision: main, startedAtMs, probeCount: 10 + prod.probes() });
    } finally {
      prod.close();
    }
  });

  test('a failure seen before the crash is not forgotten: the retry rolls back without probing', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'a.md': 'a\n' });
    const prod = await countingService(200);
    const main = repo.git('rev-parse', 'main').trim();
    const failed = { at: new Date().toISOString(), ok: false, detail: `HTTP 502 from ${prod.url}` };
    const checkpoint = {
      revision: main,
      startedAtMs: Date.now() - 200,
      probeCount: 2,
      probes: [...okProbes(1, prod.url), failed],
      failed,
    };
    const marker = path.join(os.tmpdir(), `rollback-${Date.now()}-resumed`);
    try {
      const outcome = (await new MockActivityEnvironment({ heartbeatDetails: { gate: 'observation', checkpoint } }).run(
        createGateActivities(config(repo, prod.url, marker)).runGate,
        input,
      )) as GateOutcome;
      expect(outcome.verdict).toBe('FAIL');
      expect(outcome.findings[0]).toContain(`HTTP 502 from ${prod.url}`);
      expect(prod.probes()).toBe(0);
      // In the build checkout, at the revision it rolls back from.
      expect(fs.readFileSync(marker, 'utf8')).toBe(`rolled back from ${main} in ${main}\n`);
    } finally {
      prod.close();
    }
  });

  test('a checkpoint of another deploy (another revision) is not trusted: a new window starts', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'a.md': 'a\n' });
    const prod = await countingService(200);
    const checkpoint = {
      revision: 'f'.repeat(40),
      startedAtMs: Date.now() - 10_000,
      probeCount: 9,
      probes: okProbes(9, prod.url),
    };
    try {
      const outcome = (await new MockActivityEnvironment({ heartbeatDetails: { gate: 'observation', checkpoint } }).run(
        createGateActivities(config(repo, prod.url, '/nonexistent/marker')).runGate,
        input,
      )) as GateOutcome;
      expect(outcome.verdict).toBe('PASS');
      expect(prod.probes()).toBeGreaterThanOrEqual(5);
      expect(outcome.findings[0]).toContain(`healthy for ${prod.probes()} probe(s)`);
    } finally {
      prod.close();
    }
  });
});
