// The image-freshness gate with real builds (shell commands standing in for `docker build`): the
// built artifact must record the merged commit; a stale cache is rebuilt once; still stale fails
// with both revisions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  stage: 'testing',
  gate: 'image-freshness',
  attempt: 1,
  branch: BRANCH,
};

function config(repo: TestRepo, build: string): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-build-'));
  const yaml = `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    commands:\n      build: ${JSON.stringify(build)}\n      builtRevision: cat out/REVISION\n`;
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(yaml, 'p.yaml').projects,
    dataDir,
  };
}

const run = (c: AppConfig): Promise<GateOutcome> =>
  new MockActivityEnvironment().run(createGateActivities(c).runGate, input) as Promise<GateOutcome>;

/** A repository whose item branch is merged into main. */
function mergedRepo(): { repo: TestRepo; head: string } {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/coupon.js': 'exports.c = 1;\n' }, 'feat(SHOP-42): coupons');
  repo.git('checkout', '--quiet', 'main');
  repo.git('merge', '--quiet', '--no-ff', '-m', `Merge ${BRANCH}`, BRANCH);
  repo.git('push', '--quiet', 'origin', 'main');
  return { repo, head: repo.git('rev-parse', 'HEAD').trim() };
}

test('a build that records the merged commit passes', async () => {
  const { repo, head } = mergedRepo();
  const outcome = await run(config(repo, 'mkdir -p out && echo "$ORCH_REVISION" > out/REVISION'));
  expect(outcome).toEqual({
    gate: 'image-freshness',
    verdict: 'PASS',
    findings: [`built from main at ${head.slice(0, 12)}`],
  });
});

test('a stale cache is rebuilt once and then passes', async () => {
  const { repo, head } = mergedRepo();
  const c = config(
    repo,
    'mkdir -p out && if [ -f out/REVISION ] && [ -z "$ORCH_REBUILD" ]; then echo cached; else echo "$ORCH_REVISION" > out/REVISION; fi',
  );
  // An earlier build left an artifact of an older commit in the build directory.
  const buildDir = path.join(c.dataDir, 'build', 'shop');
  fs.mkdirSync(buildDir, { recursive: true });
  repo.git('clone', '--quiet', repo.origin, buildDir);
  fs.mkdirSync(path.join(buildDir, 'out'));
  fs.writeFileSync(path.join(buildDir, 'out/REVISION'), '0123456789abcdef0123456789abcdef01234567\n');
  const outcome = await run(c);
  expect(outcome.verdict).toBe('PASS');
  expect(outcome.findings).toEqual([
    `built from main at ${head.slice(0, 12)} after a rebuild (the first build recorded 0123456789abcdef0123456789abcdef01234567)`,
  ]);
});

test('a build that keeps recording an old revision fails with both revisions', async () => {
  const { repo, head } = mergedRepo();
  const outcome = await run(
    config(repo, 'mkdir -p out && echo 0123456789abcdef0123456789abcdef01234567 > out/REVISION'),
  );
  expect(outcome.verdict).toBe('FAIL');
  expect(outcome.findings).toEqual([
    `stale build: the artifact records revision 0123456789abcdef0123456789abcdef01234567 but main is at ${head}, also after a rebuild without cache; check the build's cache and its revision label`,
  ]);
});

test('a failing build and an unmerged branch are failures with the reason', async () => {
  const { repo } = mergedRepo();
  expect((await run(config(repo, 'echo compile error >&2; exit 2'))).findings[0]).toBe(
    'build failed (`echo compile error >&2; exit 2` exited 2); last lines:\ncompile error',
  );
  const unmerged = createRepo();
  unmerged.commit(BRANCH, { 'x.js': '1\n' });
  expect((await run(config(unmerged, 'true'))).findings[0]).toMatch(
    /^main \([0-9a-f]{12}\) does not contain feature\/SHOP-42-coupons: the item is not merged$/,
  );
});
