// The merge gate through Gitea's API (gitea.mergeThroughApi) against the local Gitea fake, which
// merges for real into the bare origin: the PR is opened and merged with the configured style, a
// merge is never repeated blindly (already merged, lost answers, a retried activity), "not
// mergeable yet" is waited out, and a refusal a person must settle blocks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGateActivities } from '../../src/activities/gates';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { GateInput, GateOutcome } from '../../src/domain';
import { GiteaClient } from '../../src/tracker/gitea-client';
import { FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { fakeGitea, type FakeGiteaOptions } from '../support/fake-trackers';
import { createRepo, type TestRepo } from '../support/git-fixtures';

jest.setTimeout(60_000);

const TOKEN = 'gitea-test-token';
const BRANCH = 'feature/SHOP-42-coupons';
const input: GateInput = {
  project: 'shop',
  ticket: 'SHOP-42',
  stage: 'testing',
  gate: 'merge',
  attempt: 1,
  branch: BRANCH,
};

async function setup(style: 'merge-commit' | 'fast-forward', fake: Partial<FakeGiteaOptions> = {}) {
  const repo = createRepo();
  repo.commit(BRANCH, { 'src/coupon.js': 'exports.c = 1;\n' }, 'feat(SHOP-42): coupons');
  repo.commit('main', { 'src/other.js': 'exports.o = 1;\n' }, 'feat: other change');
  const gitea = await fakeGitea({ token: TOKEN, repo: 'acme/shop', origin: repo.origin, ...fake });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-gitea-merge-'));
  const yaml = `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    mergeStyle: ${style}\n    commands:\n      test: test -f src/other.js && test -f src/coupon.js\n    gitea:\n      repository: acme/shop\n      mergeThroughApi: true\n`;
  const config: AppConfig = {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(yaml, 'p.yaml').projects,
    dataDir,
  };
  const client = new GiteaClient({ baseUrl: gitea.url, token: TOKEN, http: { baseDelayMs: 1 } });
  return {
    repo,
    gitea,
    run: (mock = new MockActivityEnvironment()) =>
      mock.run(createGateActivities(config, { gitea: client }).runGate, input) as Promise<GateOutcome>,
  };
}

const mergePosts = (gitea: { requests: { method: string; path: string }[] }) =>
  gitea.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/merge'));
const subject = (repo: TestRepo, ref: string): string => repo.git('log', '-1', '--format=%s', ref).trim();

test('the PR is opened and merged on Gitea with a merge commit, only if its head is the rebased, tested commit', async () => {
  const { repo, gitea, run } = await setup('merge-commit');
  try {
    const outcome = await run();
    repo.git('fetch', '--quiet', 'origin');
    const main = repo.git('rev-parse', 'origin/main').trim();
    expect(outcome.verdict).toBe('PASS');
    expect(outcome.findings[0]).toBe(
      `merged ${BRANCH} into main through Gitea PR #17 as ${main.slice(0, 12)} (merge-commit, \`test -f src/other.js && test -f src/coupon.js\` passed)`,
    );
    expect(gitea.pulls).toEqual([
      expect.objectContaining({ number: 17, head: BRANCH, base: 'main', merged: true, mergeCommit: main }),
    ]);
    expect(subject(repo, 'origin/main')).toBe(`Merge ${BRANCH} (SHOP-42)`);
    // The rebased branch was pushed first, and Gitea was told to merge exactly that commit.
    expect(repo.git('rev-parse', 'origin/main^2').trim()).toBe(repo.git('rev-parse', `origin/${BRANCH}`).trim());
    expect(mergePosts(gitea).map((r) => (r as { body?: { Do?: string; head_commit_id?: string } }).body)).toEqual([
      expect.objectContaining({ Do: 'merge', head_commit_id: repo.git('rev-parse', `origin/${BRANCH}`).trim() }),
    ]);

    // A retry finds the merged PR and does not merge again.
    const again = await run();
    expect(again).toMatchObject({
      verdict: 'PASS',
      findings: [`PR #17 of ${BRANCH} is already merged into main on Gitea (${main.slice(0, 12)})`],
    });
    expect(mergePosts(gitea)).toHaveLength(1);
  } finally {
    await gitea.close();
  }
});

test('fast-forward style asks Gitea for fast-forward-only and keeps main linear', async () => {
  const { repo, gitea, run } = await setup('fast-forward');
  try {
    expect((await run()).verdict).toBe('PASS');
    repo.git('fetch', '--quiet', 'origin');
    expect(subject(repo, 'origin/main')).toBe('feat(SHOP-42): coupons');
    expect(repo.git('rev-list', '--merges', 'origin/main').trim()).toBe('');
    expect((mergePosts(gitea)[0] as { body?: { Do?: string } }).body?.Do).toBe('fast-forward-only');
  } finally {
    await gitea.close();
  }
});

test('"Please try again later" (mergeability not computed yet) is waited out', async () => {
  const { gitea, run } = await setup('merge-commit', { notMergeableYet: 2 });
  try {
    const outcome = await run();
    expect(outcome.verdict).toBe('PASS');
    expect(mergePosts(gitea)).toHaveLength(3);
    expect(gitea.pulls[0]?.merged).toBe(true);
  } finally {
    await gitea.close();
  }
});

test('a merge whose answer was lost is found merged and not requested again', async () => {
  const { repo, gitea, run } = await setup('merge-commit', { loseMergeAnswers: 1 });
  try {
    const outcome = await run();
    expect(outcome.verdict).toBe('PASS');
    // One merge request: the 500 was not retried by the HTTP client, the merged state was asked.
    expect(mergePosts(gitea)).toHaveLength(1);
    repo.git('fetch', '--quiet', 'origin');
    expect(repo.git('rev-list', '--merges', 'origin/main').trim().split('\n')).toHaveLength(1);
  } finally {
    await gitea.close();
  }
});

test('a retried activity checks the PR it checkpointed before doing anything', async () => {
  const { gitea, run } = await setup('merge-commit');
  try {
    await run();
    const requestsBefore = gitea.requests.length;
    const retried = await run(
      new MockActivityEnvironment({ heartbeatDetails: { gate: 'merge', checkpoint: { pullRequest: 17 } } }),
    );
    expect(retried.findings[0]).toMatch(/^PR #17 of .+ is already merged into main on Gitea/);
    expect(gitea.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/repos/acme/shop/pulls/17/merge',
    ]);
  } finally {
    await gitea.close();
  }
});

test('a refusal a person must settle (missing approvals) blocks the item instead of retrying', async () => {
  const { repo, gitea, run } = await setup('merge-commit', { requireApprovals: true });
  const mainBefore = repo.git('rev-parse', 'main').trim();
  try {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FAILURE_NEEDS_PERSON);
    expect((err as Error).message).toBe(
      `Gitea refused to merge PR #17 of ${BRANCH} (HTTP 405: Does not have enough approvals): check the PR's required approvals and checks and the bot's permission to merge, then retry`,
    );
    repo.git('fetch', '--quiet', 'origin');
    expect(repo.git('rev-parse', 'origin/main').trim()).toBe(mainBefore);
    expect(mergePosts(gitea)).toHaveLength(1);
  } finally {
    await gitea.close();
  }
});

test('a rejected token blocks the item with the host named, never the token', async () => {
  const { gitea } = await setup('merge-commit');
  const repo = createRepo();
  repo.commit(BRANCH, { 'a.js': '1\n' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-gitea-merge-'));
  const yaml = `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    gitea:\n      repository: acme/shop\n      mergeThroughApi: true\n`;
  const config: AppConfig = {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(yaml, 'p.yaml').projects,
    dataDir,
  };
  const wrongToken = 'not-the-token-123';
  try {
    const err = await new MockActivityEnvironment()
      .run(
        createGateActivities(config, {
          gitea: new GiteaClient({ baseUrl: gitea.url, token: wrongToken, http: { baseDelayMs: 1 } }),
        }).runGate,
        input,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as ApplicationFailure).type).toBe(FAILURE_NEEDS_PERSON);
    expect((err as Error).message).toMatch(
      /^Gitea GET \/api\/v1\/repos\/acme\/shop\/pulls\/main\/feature%2FSHOP-42-coupons: HTTP 401/,
    );
    expect((err as Error).message).not.toContain(wrongToken);
  } finally {
    await gitea.close();
  }
});
