// The artifacts gate on real repositories: contracts, frontmatter verdicts, the docs rule.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGateActivities } from '../../src/activities/gates';
import { readVerdict } from '../../src/activities/gates/frontmatter';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { GateInput, GateOutcome, Stage } from '../../src/domain';
import { createRepo, type TestRepo } from '../support/git-fixtures';

const BRANCH = 'feature/SHOP-42-coupons';
const DIR = 'docs/work-items/SHOP-42';

function config(repo: TestRepo): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-data-'));
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({}),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(`projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n`, 'p.yaml')
      .projects,
    dataDir,
  };
}

const check = (repo: TestRepo, stage: Stage): Promise<GateOutcome> => {
  const input: GateInput = { project: 'shop', ticket: 'SHOP-42', stage, gate: 'artifacts', attempt: 1, branch: BRANCH };
  return new MockActivityEnvironment().run(createGateActivities(config(repo)).runGate, input) as Promise<GateOutcome>;
};

const review = (verdict: string, body = 'Looks right.') => `---\nverdict: ${verdict}\n---\n\n${body}\n`;

describe('artifacts gate', () => {
  test('analysis: every contract file must exist, the test plan must be YAML', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, {
      [`${DIR}/00-business-request.md`]: '# Request\n',
      [`${DIR}/01-brd.md`]: '# BRD\n',
      [`${DIR}/02-trz.md`]: '# Spec\n',
      [`${DIR}/04-test-plan.yaml`]: 'cases: [unclosed\n',
    });
    const outcome = await check(repo, 'analysis');
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings).toEqual([
      `${DIR}/03-acceptance-criteria.md is missing on ${BRANCH}`,
      expect.stringMatching(new RegExp(`^${DIR}/04-test-plan.yaml is not valid YAML`)),
    ]);
    repo.commit(BRANCH, {
      [`${DIR}/03-acceptance-criteria.md`]: '- works\n',
      [`${DIR}/04-test-plan.yaml`]: 'cases:\n  - coupon applies\n',
    });
    expect(await check(repo, 'analysis')).toEqual({ gate: 'artifacts', verdict: 'PASS', findings: [] });
  });

  test('architecture needs at least one properly named ADR', async () => {
    const repo = createRepo();
    const rest = {
      [`${DIR}/07-infra-requirements.md`]: 'x\n',
      [`${DIR}/08-data-requirements.md`]: 'x\n',
      [`${DIR}/10-tech-risks.md`]: 'x\n',
    };
    repo.commit(BRANCH, { ...rest, [`${DIR}/06-adr/decision.md`]: 'x\n' });
    expect((await check(repo, 'architecture')).findings).toEqual([
      `${DIR}/06-adr/: no ADR file named like ADR-001-some-decision.md`,
    ]);
    repo.commit(BRANCH, { [`${DIR}/06-adr/ADR-001-coupon-storage.md`]: '# ADR\n' });
    expect((await check(repo, 'architecture')).verdict).toBe('PASS');
  });

  test('review: REQUEST_CHANGES carries the review text verbatim; APPROVE passes when docs travel with the code', async () => {
    const repo = createRepo();
    const text = 'Expired coupons fall through to a generic 400.\nReturn 422 with `COUPON_EXPIRED`.';
    repo.commit(BRANCH, {
      'src/coupon.js': 'x\n',
      'CHANGELOG.md': '# Changelog\n- coupons\n',
      [`${DIR}/12-review.md`]: review('REQUEST_CHANGES', text),
    });
    expect(await check(repo, 'review')).toEqual({
      gate: 'artifacts',
      verdict: 'REQUEST_CHANGES',
      findings: [`${DIR}/12-review.md: verdict REQUEST_CHANGES`, text],
    });
    repo.commit(BRANCH, { [`${DIR}/12-review.md`]: review('APPROVE') });
    expect(await check(repo, 'review')).toEqual({ gate: 'artifacts', verdict: 'PASS', findings: [] });
  });

  test('review: code without docs or CHANGELOG is sent back whatever the reviewer wrote', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'src/coupon.js': 'x\n', [`${DIR}/12-review.md`]: review('APPROVE') });
    expect(await check(repo, 'review')).toEqual({
      gate: 'artifacts',
      verdict: 'REQUEST_CHANGES',
      findings: [
        'code changed (src/coupon.js) but neither docs/ nor CHANGELOG.md: documentation travels with the code',
      ],
    });
  });

  test.each([
    ['no frontmatter', 'verdict: PASS\n', /no YAML frontmatter/],
    ['broken YAML', '---\nverdict: [PASS\n---\n', /frontmatter is not valid YAML/],
    ['missing field', '---\nresult: PASS\n---\n', /frontmatter has no verdict/],
    ['unknown value', '---\nverdict: MOSTLY_PASS\n---\n', /verdict is "MOSTLY_PASS"; expected PASS or FAIL/],
    ['prose only', 'All tests PASS.\n', /no YAML frontmatter/],
  ])('testing: %s fails closed', async (_name, report, finding) => {
    const repo = createRepo();
    repo.commit(BRANCH, { [`${DIR}/13-test-report.md`]: report });
    const outcome = await check(repo, 'testing');
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings[0]).toMatch(finding);
  });

  test('a branch that does not exist fails; development needs changes on the branch', async () => {
    const repo = createRepo();
    expect((await check(repo, 'development')).findings).toEqual([`branch ${BRANCH} does not exist in the repository`]);
    repo.git('push', '--quiet', 'origin', `main:refs/heads/${BRANCH}`);
    expect((await check(repo, 'development')).findings).toEqual([`${BRANCH} has no changes against main`]);
  });

  test("a gate the registry does not know (a newer worker's gate, say) is refused until the workers are upgraded", async () => {
    const repo = createRepo();
    const input = {
      project: 'shop',
      ticket: 'SHOP-42',
      stage: 'testing',
      gate: 'canary',
      attempt: 1,
      branch: BRANCH,
    } as unknown as GateInput;
    await expect(
      new MockActivityEnvironment().run(createGateActivities(config(repo)).runGate, input),
    ).rejects.toMatchObject({
      type: 'NotImplemented',
      message: 'this worker does not know gate canary: upgrade the workers, then retry',
    });
  });
});

test('frontmatter reading never trusts prose', () => {
  const spec = { field: 'verdict' as const, pass: 'APPROVE', fail: 'REQUEST_CHANGES' };
  expect(readVerdict('r.md', '---\nverdict: APPROVE\n---\nbody', spec)).toMatchObject({
    ok: true,
    value: 'APPROVE',
    body: 'body',
  });
  expect(readVerdict('r.md', '---\nverdict: true\n---\n', spec)).toEqual({
    ok: false,
    finding: 'r.md: verdict is true; expected APPROVE or REQUEST_CHANGES',
  });
});
