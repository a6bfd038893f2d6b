// The security gate on real repositories with the real gitleaks and osv-scanner.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGateActivities } from '../../src/activities/gates';
import { verdictFromReport } from '../../src/activities/gates/security';
import { GitMirror } from '../../src/activities/git/repository';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import type { GateInput, GateOutcome } from '../../src/domain';
import { buildOsvDatabase } from '../support/osv-db';
import { freePort as closedPort } from '../support/processes';
import { createRepo, type TestRepo } from '../support/git-fixtures';

// Built at run time so this file itself holds no secret-shaped string for gitleaks to flag.
const AWS_KEY = ['AKIA', 'QWERTYUIOPASDFGH'].join('');
const AWS_LINE = `const awsAccessKeyId = "${AWS_KEY}";\n`;
const BRANCH = 'feature/SHOP-42-coupons';

const lockfile = (leftPad: string) =>
  JSON.stringify({
    name: 'shop',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'shop', version: '1.0.0', dependencies: { 'left-pad': leftPad } },
      'node_modules/left-pad': { version: leftPad },
    },
  });

function config(repo: TestRepo, env: Record<string, string> = {}, strict = false): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-data-'));
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({ ORCH_SECURITY_GATE_SCOPE: 'shop', ...env }),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(
      `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    gates:\n      dependencyAuditStrict: ${strict}\n`,
      'p.yaml',
    ).projects,
    dataDir,
  };
}

const input: GateInput = {
  project: 'shop',
  ticket: 'SHOP-42',
  stage: 'testing',
  gate: 'security',
  attempt: 1,
  branch: BRANCH,
};
// Runs the activity with a real activity context (heartbeats, logger), as a worker would.
const runGate = (c: AppConfig): Promise<GateOutcome> =>
  new MockActivityEnvironment().run(createGateActivities(c).runGate, input) as Promise<GateOutcome>;

function reportOn(repo: TestRepo): { text: string; frontmatter: string } {
  repo.git('fetch', '--quiet', 'origin');
  const text = repo.git('show', `origin/${BRANCH}:docs/work-items/SHOP-42/17-security-report.md`);
  return { text, frontmatter: text.split('---')[1] ?? '' };
}

describe('security gate', () => {
  test('a key planted on the item branch fails the gate; the report names rule, file, line and commit, never the value', async () => {
    const repo = createRepo();
    const commit = repo.commit(BRANCH, { 'src/aws.js': `// config\n${AWS_LINE}` }, 'feat: add aws client');
    const outcome = await runGate(config(repo));
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings).toEqual([
      `secret: rule aws-access-token in src/aws.js:2 (commit ${commit.slice(0, 12)}); remove it from the branch history and rotate it`,
    ]);
    const report = reportOn(repo);
    expect(report.frontmatter).toContain('security_status: FAIL');
    expect(report.frontmatter).toContain('secrets_found: 1');
    expect(report.text).not.toContain(AWS_KEY);
    expect(JSON.stringify(outcome)).not.toContain(AWS_KEY);
    // The gate wrote only to the item branch.
    expect(repo.git('log', '--format=%s', '-1', 'origin/main').trim()).toBe('initial commit');
    expect(repo.git('log', '--format=%s', '-1', `origin/${BRANCH}`).trim()).toBe(
      'docs(SHOP-42): security report (FAIL)',
    );
  });

  test('the same key present only on the default branch does not blame the item', async () => {
    const repo = createRepo();
    repo.commit('main', { 'legacy/aws.js': AWS_LINE }, 'legacy');
    repo.commit(BRANCH, { 'src/feature.js': 'module.exports = 2;\n', 'CHANGELOG.md': '# Changelog\n- coupons\n' });
    const outcome = await runGate(config(repo));
    expect(outcome.verdict).toBe('PASS');
    expect(reportOn(repo).frontmatter).toContain('security_status: PASS');
  });

  test('gitleaks failing to run fails closed', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'src/feature.js': 'module.exports = 2;\n' });
    const previous = process.env.ORCH_GITLEAKS_BIN;
    process.env.ORCH_GITLEAKS_BIN = path.join(os.tmpdir(), 'no-such-gitleaks');
    try {
      const outcome = await runGate(config(repo));
      expect(outcome.verdict).toBe('FAIL');
      expect(outcome.findings[0]).toMatch(/^secret scan could not complete, failing closed: gitleaks could not run/);
      expect(reportOn(repo).frontmatter).toContain('secrets_found: null');
    } finally {
      if (previous === undefined) delete process.env.ORCH_GITLEAKS_BIN;
      else process.env.ORCH_GITLEAKS_BIN = previous;
    }
  });

  test('advisory feed unreachable: PASS with a loud warning by default, FAIL in strict mode', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, { 'package-lock.json': lockfile('1.1.0') });
    // Unreachable on any machine, at once: the feed is behind a proxy on a closed port.
    const previous = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${await closedPort()}`;
    try {
      await feedUnreachableChecks(repo);
    } finally {
      if (previous === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = previous;
    }
  });

  async function feedUnreachableChecks(repo: TestRepo): Promise<void> {
    const lenient = await runGate(config(repo));
    expect(lenient.verdict).toBe('PASS');
    expect(lenient.findings[0]).toMatch(/^WARNING: the dependency advisory feed could not be reached/);
    const report = reportOn(repo).frontmatter;
    expect(report).toContain('dependency_audit: feed-unreachable');
    expect(report).toContain('mode: default');
    expect(report).toMatch(/warnings:\n\s+- ["']?WARNING: the dependency advisory feed could not be reached/);

    expect(lenient.findings[0]).toContain('(through HTTPS_PROXY)');
    const strict = await runGate(config(repo, {}, true));
    expect(strict.verdict).toBe('FAIL');
    expect(strict.findings[0]).toMatch(/strict mode fails the gate$/);
  }

  test('a known-vulnerable dependency fails the gate against an offline advisory database', async () => {
    const db = buildOsvDatabase([
      {
        id: 'GHSA-test-left-pad',
        summary: 'left-pad drops characters',
        package: 'left-pad',
        introduced: '0',
        fixed: '1.3.0',
      },
    ]);
    const vulnerable = createRepo();
    vulnerable.commit(BRANCH, { 'package-lock.json': lockfile('1.1.0') });
    const failed = await runGate(config(vulnerable, { ORCH_OSV_DB_DIR: db }));
    expect(failed).toEqual({
      gate: 'security',
      verdict: 'FAIL',
      findings: ['dependency: left-pad@1.1.0 (npm) has GHSA-test-left-pad: left-pad drops characters'],
    });
    expect(reportOn(vulnerable).frontmatter).toContain('dependency_audit: vulnerable');

    const fixed = createRepo();
    fixed.commit(BRANCH, { 'package-lock.json': lockfile('1.3.0') });
    expect(await runGate(config(fixed, { ORCH_OSV_DB_DIR: db }))).toEqual({
      gate: 'security',
      verdict: 'PASS',
      findings: [],
    });
  });

  test("the repository's own .gitleaks.toml is used, as its default branch has it", async () => {
    const repo = createRepo();
    repo.commit('main', {
      '.gitleaks.toml': "[extend]\nuseDefault = true\n[allowlist]\npaths = ['''fixtures/.*''']\n",
    });
    repo.commit(BRANCH, { 'fixtures/aws.js': AWS_LINE, 'CHANGELOG.md': '# Changelog\n- fixtures\n' });
    expect((await runGate(config(repo))).verdict).toBe('PASS');
  });

  test('an item cannot weaken the scan with a .gitleaks.toml of its own branch', async () => {
    const repo = createRepo();
    repo.commit(BRANCH, {
      '.gitleaks.toml': "[extend]\nuseDefault = true\n[allowlist]\npaths = ['''.*''']\n",
      'src/aws.js': AWS_LINE,
      'CHANGELOG.md': '# Changelog\n- aws\n',
    });
    const outcome = await runGate(config(repo));
    expect(outcome.verdict).toBe('FAIL');
    expect(outcome.findings.join(' ')).toContain('src/aws.js');
  });

  test('a report that does not read back valid is a FAIL, whatever the scans found', async () => {
    const repo = createRepo();
    const file = 'docs/work-items/SHOP-42/17-security-report.md';
    repo.commit(BRANCH, { [file]: '---\nsecurity_status: [PASS\n---\n' });
    const mirror = await GitMirror.sync(
      repo.origin,
      path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-')), 'shop.git'),
    );
    expect(await verdictFromReport(mirror, `refs/heads/${BRANCH}`, file, [], [])).toEqual({
      gate: 'security',
      verdict: 'FAIL',
      findings: [expect.stringMatching(new RegExp(`^${file}: frontmatter is not valid YAML`))],
    });
    expect(
      (await verdictFromReport(mirror, `refs/heads/${BRANCH}`, 'docs/work-items/SHOP-42/missing.md', [], [])).findings,
    ).toEqual(['docs/work-items/SHOP-42/missing.md could not be read back']);
  });

  test('outside the rollout scope the gate does not apply, and says why', async () => {
    const repo = createRepo();
    expect(await runGate(config(repo, { ORCH_SECURITY_GATE_SCOPE: '' }))).toEqual({
      gate: 'security',
      verdict: 'PASS',
      findings: [
        'gate security does not apply: ORCH_SECURITY_GATE_SCOPE is empty, which covers only the self-hosting project',
      ],
    });
  });
});
