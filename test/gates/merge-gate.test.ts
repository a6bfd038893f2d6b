// The merge gate on real repositories with a bare origin: rebase onto main, the project's tests
// on the result, merge and push; conflicts and failing tests are findings; a merge that already
// happened is not repeated.
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
  gate: 'merge',
  attempt: 1,
  branch: BRANCH,
};

function config(repo: TestRepo, extra = ''): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-merge-'));
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(
      `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n${extra}`,
      'p.yaml',
    ).projects,
    dataDir,
  };
}

const merge = (c: AppConfig, i: GateInput = input): Promise<GateOutcome> =>
  new MockActivityEnvironment().run(createGateActivities(c).runGate, i) as Promise<GateOutcome>;

function originLog(repo: TestRepo, ref: string): string[] {
  repo.git('fetch', '--quiet', 'origin');
  return repo.git('log', '--format=%s', `origin/${ref}`).trim().split('\n');
}

test('the branch is rebased onto what main became meanwhile, tested, merged with a merge commit and pushed', async () => {
  const repo = createRepo();
  repo.commit(
    BRANCH,
    { 'src/coupon.js': 'exports.c = 1;\n', 'CHANGELOG.md': '# Changelog\n- coupons\n' },
    'feat(SHOP-42): coupons',
  );
  repo.commit('main', { 'src/other.js': 'exports.o = 1;\n' }, 'feat: other change');
  const c = config(repo, '    commands:\n      test: test -f src/other.js && test -f src/coupon.js\n');

  const outcome = await merge(c);
  expect(outcome.verdict).toBe('PASS');
  expect(outcome.findings[0]).toMatch(
    new RegExp(
      `^merged ${BRANCH} into main as [0-9a-f]{12} \\(merge-commit, \`test -f src/other.js && test -f src/coupon.js\` passed\\)$`,
    ),
  );
  // Commits within one second tie on date, so the shape is read from the parents, not log order.
  const subject = (ref: string): string => repo.git('log', '-1', '--format=%s', ref).trim();
  expect(originLog(repo, 'main')[0]).toBe(`Merge ${BRANCH} (SHOP-42)`);
  expect([subject('origin/main^1'), subject('origin/main^2'), subject('origin/main^2^')]).toEqual([
    'feat: other change',
    'feat(SHOP-42): coupons',
    'feat: other change',
  ]);
  // The item branch now carries the rebased history.
  expect(repo.git('rev-parse', `origin/${BRANCH}`).trim()).toBe(repo.git('rev-parse', 'origin/main^2').trim());

  // A retry after the merge (a crash before the activity reported) does not merge again.
  const again = await merge(c);
  expect(again.verdict).toBe('PASS');
  expect(again.findings[0]).toMatch(/is already merged into main/);
  expect(originLog(repo, 'main')[0]).toBe(`Merge ${BRANCH} (SHOP-42)`);
});

test('fast-forward style keeps main linear', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/coupon.js': 'exports.c = 1;\n' }, 'feat(SHOP-42): coupons');
  const outcome = await merge(config(repo, '    mergeStyle: fast-forward\n'));
  expect(outcome.findings[0]).toContain('(fast-forward, no test command configured)');
  expect(originLog(repo, 'main')[0]).toBe('feat(SHOP-42): coupons');
});

test('a rebase conflict names the conflicting files and leaves main alone', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/index.js': 'module.exports = 2;\n' }, 'feat(SHOP-42): two');
  const mainBefore = repo.commit('main', { 'src/index.js': 'module.exports = 3;\n' }, 'feat: three');
  const outcome = await merge(config(repo));
  expect(outcome).toEqual({
    gate: 'merge',
    verdict: 'FAIL',
    findings: [`rebasing ${BRANCH} onto main conflicts in: src/index.js; rebase the branch onto main and resolve them`],
  });
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('rev-parse', 'origin/main').trim()).toBe(mainBefore);
});

test('tests failing after the rebase send the tail of their output back', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/coupon.js': 'exports.c = 1;\n' }, 'feat(SHOP-42): coupons');
  const mainBefore = repo.git('rev-parse', 'main').trim();
  const outcome = await merge(
    config(repo, '    commands:\n      test: "echo running 12 tests; echo 1 failing: coupon expiry >&2; exit 3"\n'),
  );
  expect(outcome.verdict).toBe('FAIL');
  expect(outcome.findings[0]).toBe(
    `tests failed after rebasing ${BRANCH} onto main (\`echo running 12 tests; echo 1 failing: coupon expiry >&2; exit 3\` exited 3); last lines:\nrunning 12 tests\n1 failing: coupon expiry`,
  );
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('rev-parse', 'origin/main').trim()).toBe(mainBefore);
});

test('a project with the merge gate off passes with a note', async () => {
  const repo = createRepo();
  const outcome = await merge(config(repo, '    gates:\n      merge: false\n'));
  expect(outcome).toEqual({
    gate: 'merge',
    verdict: 'PASS',
    findings: ['gate merge does not apply: gates.merge is false for shop'],
  });
});

test('a rebase left in progress by a killed worker is cleared before the next attempt', async () => {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/coupon.js': 'exports.c = 1;\n' }, 'feat(SHOP-42): coupons');
  repo.commit('main', { 'src/other.js': 'exports.o = 1;\n' }, 'feat: other change');
  const c = config(repo);
  const dir = path.join(c.dataDir, 'merge', 'shop');
  // The state a worker leaves when it dies in the middle of a conflicting rebase.
  const { execFileSync } = await import('node:child_process');
  execFileSync('git', ['clone', '--quiet', repo.origin, dir]);
  execFileSync('git', ['-C', dir, 'checkout', '--quiet', '-b', 'orchestrator-merge', `origin/${BRANCH}`]);
  fs.writeFileSync(path.join(dir, 'src/other.js'), 'exports.o = 2;\n');
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync(
    'git',
    ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'x'],
    { stdio: 'ignore' },
  );
  expect(() =>
    execFileSync(
      'git',
      ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'rebase', '--quiet', 'origin/main'],
      { stdio: 'ignore' },
    ),
  ).toThrow();
  expect(fs.existsSync(path.join(dir, '.git', 'rebase-merge'))).toBe(true);

  const outcome = await merge(c);
  expect(outcome.verdict).toBe('PASS');
  expect(originLog(repo, 'main')[0]).toBe(`Merge ${BRANCH} (SHOP-42)`);
});

test("the project's tests are agent-written code: they run sandboxed and see no secret of the worker", async () => {
  const repo = createRepo();
  // The "tests" an injected agent wrote: print every environment they can reach, tamper with the
  // checkout's git hooks, then fail so the output becomes the finding.
  const hostile = [
    'for f in /proc/*/environ; do tr "\\0" "\\n" < "$f"; done',
    'ls /proc | grep -c "^[0-9]"',
    '(echo "#!/bin/sh" > .git/hooks/pre-push) 2>&1',
    'exit 1',
  ].join('; ');
  repo.commit(
    BRANCH,
    { 'run-tests.sh': `${hostile}\n`, 'CHANGELOG.md': '# Changelog\n- tests\n' },
    'test(SHOP-42): tests',
  );
  process.env.ORCH_PLANTED_WORKER_SECRET = 'planted-merge-gate-secret-7731';
  try {
    const outcome = await merge(config(repo, '    commands:\n      test: sh run-tests.sh\n'));
    expect(outcome.verdict).toBe('FAIL');
    const finding = outcome.findings.join('\n');
    expect(finding).toMatch(/tests failed after rebasing/);
    expect(finding).toContain('CI=true');
    expect(finding).not.toContain('planted-merge-gate-secret-7731');
    expect(finding).toMatch(/Read-only file system/);
  } finally {
    delete process.env.ORCH_PLANTED_WORKER_SECRET;
  }
});
